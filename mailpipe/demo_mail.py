"""The demo's sample mail: plain data, built with the standard library only.

Two waves. The first is what lands in a helpdesk inbox on a Monday morning: requests (plain
text, non-ASCII with a PDF, HTML with an inline screenshot, one from an address that does not
exist) and a newsletter. The second answers what the pipeline sent back: a customer's reply to
an acknowledgement, an out-of-office note to another, and the bounce of the acknowledgement
that went to the address that does not exist. The second wave needs the acknowledgements'
Message-IDs and subjects, so it is built from what the mailbox actually sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import cast

MAILBOX = "support@contoso.com"

#: A colleague in the (simulated) tenant: the ticketer finds her name in the directory.
COLLEAGUE = ("juergen.mueller@contoso.com", "Jürgen Müller")
#: A customer address whose domain accepts nothing: the acknowledgement to it bounces.
UNKNOWN = "sam.lee@nowhere.example"

JANE = "jane.doe@fabrikam.example"
EMILIE = "emilie.lefevre@example.fr"

# A 1x1 PNG: the "screenshot" of the printer mail.
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db000"
    "00000049454e44ae426082"
)
_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass(frozen=True)
class SampleMail:
    """One mail for the demo inbox and what it shows."""

    what: str
    raw: bytes
    #: The pipeline answers it with an auto-acknowledgement.
    acknowledged: bool = False


@dataclass(frozen=True)
class SentMail:
    """What the mailbox sent to one recipient (from the simulator's Sent list)."""

    subject: str
    message_id: str


def _message(sender: str, subject: str, *, domain: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = f"Contoso Support <{MAILBOX}>"
    msg["Subject"] = subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=domain)
    return msg


def first_wave() -> list[SampleMail]:
    return [
        SampleMail("a request (plain text)", bytes(_vpn_request()), acknowledged=True),
        SampleMail("a request in French with a PDF", bytes(_invoice_request()), acknowledged=True),
        SampleMail(
            "a colleague's HTML mail with a screenshot",
            bytes(_printer_request()),
            acknowledged=True,
        ),
        SampleMail(
            "a request from an address that does not exist", bytes(_password_request()), True
        ),
        SampleMail("a newsletter (bulk mail)", bytes(_newsletter())),
    ]


def _vpn_request() -> EmailMessage:
    vpn = _message(
        f"Jane Doe <{JANE}>", "Laptop won't connect to the VPN", domain="fabrikam.example"
    )
    vpn.set_content(
        "Hi,\n\nsince this morning my laptop (FAB-0423) fails to connect to the VPN with\n"
        "error 809. I can still reach the internet. Can you help?\n\nThanks,\nJane\n"
    )
    return vpn


def _invoice_request() -> EmailMessage:
    invoice = _message(
        f"Émilie Lefèvre <{EMILIE}>", "Facture n° 2026-1142 : montant erroné", domain="example.fr"
    )
    invoice.set_content(
        "Bonjour,\n\nla facture ci-jointe indique 1 240,00 € au lieu de 1 024,00 €.\n"
        "Pourriez-vous la corriger ? Merci d'avance.\n\nCordialement,\nÉmilie\n"
    )
    invoice.add_attachment(
        _PDF, maintype="application", subtype="pdf", filename="facture-2026-1142.pdf"
    )
    return invoice


def _printer_request() -> EmailMessage:
    printer = _message(
        f"{COLLEAGUE[1]} <{COLLEAGUE[0]}>", "Printer on the 3rd floor jams", domain="contoso.com"
    )
    printer.set_content("The printer on the 3rd floor jams on every page. Screenshot inside.\n")
    printer.add_alternative(
        "<p>The printer on the 3rd floor jams on every page.</p>"
        '<p><img src="cid:screenshot@contoso.com" alt="display of the printer"></p>',
        subtype="html",
    )
    html_part = cast(EmailMessage, printer.get_payload()[-1])  # type: ignore[index]
    html_part.add_related(_PNG, "image", "png", cid="<screenshot@contoso.com>")
    return printer


def _password_request() -> EmailMessage:
    password = _message(
        f"Sam Lee <{UNKNOWN}>", "Password reset for the customer portal", domain="nowhere.example"
    )
    password.set_content("Hello, I cannot log in to the portal. Please reset my password.\n")
    return password


def _newsletter() -> EmailMessage:
    newsletter = _message(
        "Vendor News <news@vendor.example>", "Your weekly product digest", domain="vendor.example"
    )
    newsletter["Precedence"] = "bulk"
    newsletter["List-Unsubscribe"] = "<mailto:unsubscribe@vendor.example>"
    newsletter.set_content("This week: five tips for a tidier inbox.\n")
    return newsletter


def second_wave(acks: Mapping[str, SentMail]) -> list[SampleMail]:
    """Answers to the acknowledgements the pipeline sent (``acks`` by recipient address)."""
    out: list[SampleMail] = []
    if JANE in acks:
        ack = acks[JANE]
        reply = _message(
            f"Jane Doe <{JANE}>", f"RE: {_topic(ack.subject)}", domain="fabrikam.example"
        )
        reply["In-Reply-To"] = ack.message_id
        reply["References"] = ack.message_id
        reply.set_content(
            "It works again after the reboot you suggested, but it drops every hour.\n\n"
            f"On Monday, Contoso Support <{MAILBOX}> wrote:\n> We have received your request.\n"
        )
        out.append(SampleMail("a customer's reply to an acknowledgement", bytes(reply)))
    if EMILIE in acks:
        ack = acks[EMILIE]
        ooo = _message(
            f"Émilie Lefèvre <{EMILIE}>",
            f"Réponse automatique : {_topic(ack.subject)}",
            domain="example.fr",
        )
        ooo["Auto-Submitted"] = "auto-replied"
        ooo["In-Reply-To"] = ack.message_id
        ooo["References"] = ack.message_id
        ooo.set_content("Je suis absente jusqu'au 3 décembre. / I am away until 3 December.\n")
        out.append(SampleMail("an out-of-office note", bytes(ooo)))
    if UNKNOWN in acks:
        out.append(SampleMail("a bounce of an acknowledgement", _bounce(acks[UNKNOWN])))
    return out


def _topic(subject: str) -> str:
    """The subject without its leading "Re:", as a mail client quotes it."""
    return subject[4:] if subject.lower().startswith("re: ") else subject


def _bounce(ack: SentMail) -> bytes:
    """An RFC 3464 delivery status notification for ``ack`` (5.1.1, user unknown).

    Written out by hand: the standard library's generator cannot build a delivery-status part.
    """
    boundary = "dsn-boundary-1142"
    lines = _bounce_headers(boundary)
    for part in (_bounce_explanation(), _bounce_status(), _bounced_headers(ack)):
        lines += ["", f"--{boundary}", *part]
    lines += ["", f"--{boundary}--", ""]
    return "\r\n".join(lines).encode("utf-8")


def _bounce_headers(boundary: str) -> list[str]:
    return [
        "From: Mail Delivery System <MAILER-DAEMON@mx.contoso.com>",
        f"To: {MAILBOX}",
        "Subject: Undelivered Mail Returned to Sender",
        f"Date: {formatdate(usegmt=True)}",
        f"Message-ID: {make_msgid(domain='mx.contoso.com')}",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
    ]


def _bounce_explanation() -> list[str]:
    """The part a person reads."""
    return [
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "I'm sorry to have to inform you that your message could not be delivered to",
        f"<{UNKNOWN}>: host nowhere.example said: 550 5.1.1 User unknown",
    ]


def _bounce_status() -> list[str]:
    """The part a program reads: which recipient failed and why."""
    return [
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.contoso.com",
        "",
        f"Final-Recipient: rfc822; {UNKNOWN}",
        "Action: failed",
        "Status: 5.1.1",
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown",
    ]


def _bounced_headers(ack: SentMail) -> list[str]:
    """The headers of the mail that bounced: how the bounce is matched to it."""
    return [
        "Content-Type: text/rfc822-headers",
        "",
        f"From: {MAILBOX}",
        f"To: {UNKNOWN}",
        f"Subject: {ack.subject}",
        f"Message-ID: {ack.message_id}",
    ]
