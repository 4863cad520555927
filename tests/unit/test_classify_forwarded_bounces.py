"""A person who forwards a bounce, answers one or asks about one has written a request: it must
not be swallowed as a delivery failure. A bounce that a machine forwarded stays a bounce."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from libs.common.contracts import Address, InboundEmail, MailHeaders
from services.ticketer.domain.classify import classify
from services.ticketer.domain.inbound import facts_from_inbound
from services.ticketer.domain.mime import parse_mime
from services.ticketer.domain.verdict import Classification

MAILBOX = "helpdesk@contoso.example"
OWN_DOMAIN = "mailpipe.contoso.example"

PERSON = """Return-Path: <erika@customer.example>
From: Erika Mustermann <erika@customer.example>
To: Helpdesk <helpdesk@contoso.example>
Date: Tue, 3 Nov 2026 09:12:00 +0100
Message-ID: <fw-{n}@customer.example>
MIME-Version: 1.0
"""

NDR_TEXT = """Delivery has failed to these recipients or groups:

einkauf@supplier.example
The email address you entered couldn't be found.

Diagnostic information for administrators:
Generating server: mx.supplier.example
Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'

Original message headers:
Message-ID: <order-4711@customer.example>
Subject: Invoice 4711
"""

DSN_REPORT = """From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>
To: erika@customer.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-9@mx.customer.example>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="R"

--R
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--R
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.example

Final-Recipient: rfc822; einkauf@supplier.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--R
Content-Type: text/rfc822-headers

Message-ID: <order-4711@customer.example>
Subject: Invoice 4711

--R--
"""


def crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def verdict(raw: bytes) -> Classification:
    return classify(parse_mime(raw).facts, mailbox=MAILBOX, own_message_id_domain=OWN_DOMAIN)


def outlook_forward(subject: str, *extra: str, n: int = 1) -> bytes:
    """Outlook's inline forward: the person's comment, then the notice's text."""
    head = PERSON.format(n=n) + "".join(f"{line}\n" for line in extra)
    return crlf(
        f"""{head}Subject: {subject}
Content-Type: text/plain; charset=utf-8

Hello, my invoice to our supplier keeps coming back. The address is right, they say.
Can you check our mail server?

Erika

-----Original Message-----
From: Microsoft Outlook <postmaster@customer.example>
Sent: Tuesday, 3 November 2026 09:01
To: Erika Mustermann <erika@customer.example>
Subject: Undeliverable: Invoice 4711

{NDR_TEXT}"""
    )


APPLE_FORWARD = crlf(
    PERSON.format(n=2)
    + """Subject: Fwd: Returned mail: see transcript for details
Content-Type: text/plain; charset=us-ascii; format=flowed

Forward the message. Why does this happen every time?

Begin forwarded message:

> From: Mail Delivery Subsystem <MAILER-DAEMON@mx.customer.example>
> Subject: Returned mail: see transcript for details
>
>    ----- The following addresses had permanent fatal errors -----
> <einkauf@supplier.example>
>     (reason: 550 5.1.1 <einkauf@supplier.example>... User unknown)
>
> Final-Recipient: RFC822; einkauf@supplier.example
> Action: failed
> Status: 5.1.1
"""
)

ATTACHED_FORWARD = crlf(
    PERSON.format(n=3)
    + f"""Subject: Fwd: Undelivered Mail Returned to Sender
Content-Type: multipart/mixed; boundary="F"

--F
Content-Type: text/plain; charset=utf-8

Our order to the supplier bounced, see the attached notice. Please help.

--F
Content-Type: message/rfc822
Content-Disposition: attachment; filename="Undelivered Mail Returned to Sender.eml"

{DSN_REPORT}
--F--
"""
)

# Thunderbird's inline forward keeps the forwarded mail's parts, the status part among them.
INLINE_PARTS_FORWARD = crlf(
    PERSON.format(n=4)
    + """Subject: Fwd: Delivery Status Notification (Failure)
Content-Type: multipart/mixed; boundary="T"

--T
Content-Type: text/plain; charset=utf-8

What does this mean? I only wrote to our supplier.

-------- Forwarded Message --------
Subject: Delivery Status Notification (Failure)

Your message could not be delivered.

--T
Content-Type: message/delivery-status
Content-Disposition: attachment; filename="details.txt"

Reporting-MTA: dns; mx.customer.example

Final-Recipient: rfc822; einkauf@supplier.example
Action: failed
Status: 5.1.1

--T--
"""
)


@pytest.mark.parametrize(
    "raw",
    [
        outlook_forward("FW: Undeliverable: Invoice 4711"),
        outlook_forward("WG: Unzustellbar: Rechnung 4711"),
        outlook_forward("TR: Non remis : Facture 4711"),
        outlook_forward("[EXTERNAL] Fw: Mail delivery failed: returning message to sender"),
        outlook_forward("Re: Undeliverable: Invoice 4711"),
        outlook_forward("AW: Mail Delivery Subsystem: failure notice"),
        outlook_forward("Why are my mails to supplier.example undeliverable?"),
        APPLE_FORWARD,
        ATTACHED_FORWARD,
        INLINE_PARTS_FORWARD,
    ],
    ids=[
        "outlook-fw",
        "outlook-wg",
        "outlook-tr",
        "tagged-fw",
        "reply",
        "reply-de",
        "question",
        "apple-inline",
        "attached-report",
        "inline-status-part",
    ],
)
def test_a_person_forwarding_answering_or_asking_about_a_bounce_is_a_request(raw: bytes) -> None:
    result = verdict(raw)
    assert (result.kind, result.reason) == ("request", "request")
    assert result.creates_record and result.may_acknowledge
    assert result.failures == () and result.original_message_id is None


@pytest.mark.parametrize(
    "extra",
    [
        # An Exchange mailbox rule forwarded the notice: a machine did.
        ("X-MS-Exchange-Inbox-Rules-Loop: erika@customer.example",),
        ("X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent",),
        ("Auto-Submitted: auto-generated",),
        ("Auto-Submitted: auto-replied (forwarded)",),
        ("X-Failed-Recipients: einkauf@supplier.example",),
    ],
)
def test_a_bounce_forwarded_by_a_machine_stays_a_bounce(extra: tuple[str, ...]) -> None:
    result = verdict(outlook_forward("FW: Undeliverable: Invoice 4711", *extra))
    assert result.kind == "bounce"
    assert not result.creates_record


def test_a_null_sender_forward_of_a_bounce_stays_a_bounce() -> None:
    raw = outlook_forward("FW: Undeliverable: Invoice 4711").replace(
        b"Return-Path: <erika@customer.example>", b"Return-Path: <>"
    )
    assert verdict(raw).kind == "bounce"


def test_a_daemon_answering_with_a_reply_prefix_is_a_bounce() -> None:
    raw = outlook_forward("Re: Invoice 4711").replace(
        b"From: Erika Mustermann <erika@customer.example>",
        b"From: post_master@vtext.example",
    )
    assert verdict(raw).kind == "bounce"


def test_a_report_with_a_forward_prefix_stays_a_report() -> None:
    raw = crlf(DSN_REPORT.replace("Subject: Undelivered", "Subject: Fwd: Undelivered"))
    result = verdict(raw)
    assert (result.kind, result.reason) == ("bounce", "dsn:5.1.1")
    assert result.original_message_id == "<order-4711@customer.example>"


def test_the_notice_itself_is_still_a_bounce() -> None:
    raw = outlook_forward("Undeliverable: Invoice 4711").replace(
        b"From: Erika Mustermann <erika@customer.example>",
        b"From: Microsoft Outlook <postmaster@customer.example>",
    )
    assert verdict(raw).kind == "bounce"
    assert verdict(crlf(DSN_REPORT)).reason == "dsn:5.1.1"
    question = outlook_forward("Undeliverable: Mieko...Last minute escape?").replace(
        b"From: Erika Mustermann <erika@customer.example>",
        b"From: Microsoft Outlook <postmaster@customer.example>",
    )
    assert verdict(question).kind == "bounce"


def from_contract(sender: str, other: dict[str, str]) -> Classification:
    """A forwarded notice as the fetcher publishes it without its raw MIME."""
    now = datetime(2026, 11, 3, 9, 12, tzinfo=UTC)
    email = InboundEmail.model_validate(
        {
            "mailbox": MAILBOX,
            "message_id": "g1",
            "provider": "microsoft",
            "internet_message_id": "<fw-9@customer.example>",
            "received_at": now,
            "fetched_at": now,
            "from": Address(address=sender),
            "subject": "FW: Undeliverable: Invoice 4711",
            "body": {"text": "Can you check this?\n\n" + NDR_TEXT},
            "headers": MailHeaders.model_validate({"return_path": f"<{sender}>", "other": other}),
        }
    )
    facts = facts_from_inbound(email)
    return classify(facts, mailbox=MAILBOX, own_message_id_domain=OWN_DOMAIN)


def test_the_contract_path_tells_a_persons_forward_from_a_machines() -> None:
    assert from_contract("erika@customer.example", {}).kind == "request"
    rule = {"x-ms-exchange-inbox-rules-loop": "erika@customer.example"}
    assert from_contract("erika@customer.example", rule).kind == "bounce"
    assert from_contract("postmaster@customer.example", {}).kind == "bounce"
