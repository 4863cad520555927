"""Realistic test mail for the end-to-end scenarios, with what the pipeline must make of each.

Every mail is raw RFC 822 bytes plus an :class:`Expect`: the outcome (``created``,
``appended``, ``ignored``), the request whose record it must land on, the message kind on that
record, or the first word of the reason it was ignored. The generator is seeded, so a failing
run can be repeated.

Kinds of mail:
- new requests: plain text, HTML, non-ASCII subjects and bodies, attachments, inline images,
  and requests that join a thread whose earlier messages the mailbox never saw (the mailbox was
  put in Cc midway), so a later answer in that thread shares only its References root (and
  Graph's conversationId);
- replies threading by the record token, by In-Reply-To (to the request or to our
  acknowledgement) and by conversation only, each quoting what it answers;
- auto-replies: Exchange out-of-office and RFC 3834 ``Auto-Submitted: auto-replied``, answering
  our acknowledgement (a note on the record) or nothing we know (ignored);
- bounces of our own outgoing mail, in the shapes of ../shared/corpora/bounces (Amazon SES,
  Exchange 2007, Exim, Postfix, Gmail …) with the returned Message-ID rewritten to one we sent;
  bounces of mail we never sent (ignored, ``bounce_unmatched``);
- loops: mail from the mailbox itself, mail carrying our ``X-Mailpipe-*`` headers, mail with a
  Message-ID in our own domain.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Literal

from libs.common.record_token import apply_record_token
from services.ticketer.domain.classify import classify
from services.ticketer.domain.mime import parse_mime

BOUNCES = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "bounces" / "mail"
# Delivery reports that name the returned message (message/rfc822 or text/rfc822-headers).
BOUNCE_SHAPES = (
    "lhost-amazonses-06.eml",
    "lhost-exchange2007-02.eml",
    "lhost-exchange2007-07.eml",
    "lhost-exim-29.eml",
    "lhost-exim-60.eml",
    "lhost-barracuda-01.eml",
    "lhost-courier-04.eml",
    "lhost-activehunter-01.eml",
    "lhost-ezweb-02.eml",
    "lhost-amazonses-17.eml",
)
SUBJECTS = (
    "Printer on floor 3 jams",
    "VPN drops every hour",
    "Need access to the finance share",
    "Laptop battery swelling",
    "Outlook keeps asking for my password",
    "New starter next Monday",
)
NON_ASCII_SUBJECTS = (
    "Drucker im 3. Stock: Papierstau, bitte prüfen",
    "Problème d'accès à l'intranet — urgent",
    "プリンターが動きません",
    "Доступ к почте не работает",
    "Ζήτημα με τον εκτυπωτή ✓",
)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35"
    b"\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)
_MESSAGE_ID_HEADER = re.compile(rb"^message-id:[^\n]*\n(?:[ \t][^\n]*\n)*", re.M | re.I)
_HEADER_END = re.compile(rb"\r?\n\r?\n")

Outcome = Literal["created", "appended", "ignored"]


@dataclass(frozen=True)
class Expect:
    outcome: Outcome
    #: Key of the request whose record the mail must be on (itself for a new request).
    thread: str | None = None
    #: ``record_messages.kind`` of the stored message.
    kind: str | None = None
    #: First word of the ``processed_log`` reason of an ignored mail (``loop``, ``auto_reply`` …).
    reason: str | None = None


@dataclass(frozen=True)
class Mail:
    key: str
    mailbox: str
    message_id: str
    subject: str
    raw: bytes
    expect: Expect
    sender: str = ""
    #: Message-ID of our mail this one answers or returns (acknowledgement or request).
    answers: str | None = None


def _headers(msg: EmailMessage, **extra: str) -> None:
    for name, value in extra.items():
        msg[name.replace("_", "-")] = value


class Corpus:
    """A seeded generator of mail for ``mailboxes``; keys are unique within one corpus."""

    def __init__(self, seed: int, mailboxes: tuple[str, ...]) -> None:
        self.rng = random.Random(seed)
        self.mailboxes = mailboxes
        self.run = f"{seed:x}{self.rng.getrandbits(32):08x}"
        self.count = 0

    # -- building blocks ---------------------------------------------------------------------

    def _next(self, prefix: str) -> tuple[str, str]:
        self.count += 1
        key = f"{prefix}-{self.count:04d}"
        return key, f"<{key}.{self.run}@mail.customer.example>"

    def _message(
        self, key: str, mid: str, mailbox: str, sender: str, subject: str, name: str = ""
    ) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = f"{name or sender.split('@')[0].title()} <{sender}>"
        msg["To"] = f"Support <{mailbox}>"
        msg["Subject"] = subject
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg["Message-ID"] = mid
        return msg

    def _requester(self, n: int) -> str:
        return f"user{n}.{self.run[:6]}@customer{n % 7}.example"

    # -- new requests -----------------------------------------------------------------------

    def request(self, mailbox: str, variant: str = "plain") -> Mail:
        """A new request; ``variant``: plain, html, non_ascii, attachment, inline, cc_thread."""
        key, mid = self._next(f"req-{variant}")
        sender = self._requester(self.count)
        subject = f"{self.rng.choice(SUBJECTS)} ({key})"
        body = f"Hello,\n\n{subject} since this morning. Ticket please.\n\nRegards\n"
        if variant == "non_ascii":
            subject = f"{self.rng.choice(NON_ASCII_SUBJECTS)} ({key})"
            body = f"Grüße aus Köln — {subject}: 日本語のテキスト, naïve café, Ελληνικά.\n"
        msg = self._message(key, mid, mailbox, sender, subject, name="Zoë Ünal")
        if variant == "cc_thread":
            # The mailbox joins a thread midway: References name a root it never received.
            root = f"<root-{key}.{self.run}@mail.customer.example>"
            earlier = f"<earlier-{key}.{self.run}@mail.customer.example>"
            _headers(msg, In_Reply_To=earlier, References=f"{root} {earlier}")
        if variant in ("html", "inline"):
            msg.set_content(body)
            img = '<img src="cid:logo@customer" alt="logo">' if variant == "inline" else ""
            script = "<script>alert('x')</script>"  # must not survive sanitising
            html = f"<html><body><p>{body}</p>{img}<b>bold</b>{script}</body></html>"
            msg.add_alternative(html, "html")
            if variant == "inline":
                part = msg.get_body(preferencelist=("html",))
                assert part is not None
                part.add_related(PNG, "image", "png", cid="<logo@customer>", disposition="inline")
        else:
            msg.set_content(body)
        if variant == "attachment":
            data = f"log file of {key}\n".encode() * 50
            msg.add_attachment(data, "text", "plain", filename=f"{key}.log")
        return Mail(
            key, mailbox, mid, subject, bytes(msg), Expect("created", key, "request"), sender
        )

    # -- replies ----------------------------------------------------------------------------

    def _reply(
        self, request: Mail, subject: str, *, in_reply_to: str | None, references: str | None
    ) -> tuple[str, str, EmailMessage]:
        key, mid = self._next("reply")
        msg = self._message(key, mid, request.mailbox, request.sender, subject)
        if in_reply_to:
            msg["In-Reply-To"] = in_reply_to
        if references:
            msg["References"] = references
        msg.set_content(
            f"More details for {request.key}: it happened again ({key}).\n\n"
            f"On Monday, Support <{request.mailbox}> wrote:\n> We have your request.\n"
            "> Please keep the number in the subject.\n"
        )
        return key, mid, msg

    def reply_by_token(self, request: Mail, record_id: int) -> Mail:
        """A new mail (no thread headers) whose subject carries the record token."""
        subject = "Re: " + apply_record_token(request.subject, record_id)
        key, mid, msg = self._reply(request, subject, in_reply_to=None, references=None)
        return Mail(key, request.mailbox, mid, subject, bytes(msg), _on(request, "reply"))

    def reply_by_in_reply_to(self, request: Mail, parent: str) -> Mail:
        """An answer to ``parent`` (the request or our acknowledgement), token dropped."""
        subject = f"Re: {request.subject}"
        key, mid, msg = self._reply(request, subject, in_reply_to=parent, references=None)
        return Mail(
            key, request.mailbox, mid, subject, bytes(msg), _on(request, "reply"), answers=parent
        )

    def reply_by_conversation(self, request: Mail) -> Mail:
        """An answer in a ``cc_thread`` request's thread to a message the mailbox never saw:
        it shares the request's References root (on Graph its conversation too; Gmail threads
        only by messages the mailbox has) and joins the request's record either way."""
        root = f"<root-{request.key}.{self.run}@mail.customer.example>"
        other = f"<other-{self.count}.{self.run}@mail.customer.example>"
        subject = f"RE: {request.subject}"
        key, mid, msg = self._reply(
            request, subject, in_reply_to=other, references=f"{root} {other}"
        )
        return Mail(key, request.mailbox, mid, subject, bytes(msg), _on(request, "reply"))

    # -- automatic mail ---------------------------------------------------------------------

    def auto_reply(self, request: Mail | None, parent: str | None, style: str) -> Mail:
        """An out-of-office answer to ``parent`` (ours), or to nothing we know when ``None``.

        ``style``: ``exchange`` (subject and Microsoft headers) or ``rfc3834``.
        """
        key, mid = self._next(f"oof-{style}")
        mailbox = request.mailbox if request else self.rng.choice(self.mailboxes)
        sender = request.sender if request else f"away{self.count}@partner.example"
        about = request.subject if request else "Your message"
        if style == "exchange":
            subject = f"Automatic reply: {about}"
            extra = {
                "X_Auto_Response_Suppress": "All",
                "X_MS_Exchange_Inbox_Rules_Loop": sender,
                "Thread_Topic": about,
            }
        else:
            subject = f"Auto: {about}"
            extra = {"Auto_Submitted": "auto-replied", "Precedence": "auto_reply"}
        msg = self._message(key, mid, mailbox, sender, subject)
        _headers(msg, **extra)
        if parent:
            _headers(msg, In_Reply_To=parent, References=parent)
        msg.set_content("I am out of the office until next week with limited access to e-mail.\n")
        expect = (
            _on(request, "auto_reply")
            if request and parent
            else Expect("ignored", reason="auto_reply")
        )
        return Mail(key, mailbox, mid, subject, bytes(msg), expect, sender, parent)

    def bounce(self, request: Mail | None, returned: str | None) -> Mail:
        """A delivery report returning ``returned`` (ours); ``None``: mail we never sent."""
        key, mid = self._next("bounce")
        shape = BOUNCE_SHAPES[self.count % len(BOUNCE_SHAPES)]
        expect = (
            _on(request, "delivery_failure")
            if request and returned
            else Expect("ignored", reason="bounce_unmatched")
        )
        returned = returned or f"<never-sent-{key}@elsewhere.example>"
        raw = rewrite_bounce((BOUNCES / shape).read_bytes(), returned, mid)
        mailbox = request.mailbox if request else self.rng.choice(self.mailboxes)
        return Mail(key, mailbox, mid, shape, raw, expect, answers=returned)

    def loop(self, mailbox: str, style: str) -> Mail:
        """Mail that came from us: ``self`` (from the mailbox), ``header``, ``message_id``."""
        key, mid = self._next(f"loop-{style}")
        sender = f"someone{self.count}@customer.example"
        if style == "message_id":
            mid = f"<{key}.{self.run}@mailpipe.{mailbox.split('@')[1]}>"
        if style == "self":
            sender = mailbox
        subject = f"Re: Your request has been received ({key})"
        msg = self._message(key, mid, mailbox, sender, subject)
        if style == "header":
            msg["X-Mailpipe-Job-Id"] = f"ack:{mailbox}:{self.count}"
        msg.set_content("This is an automatic message from the helpdesk.\n")
        return Mail(key, mailbox, mid, subject, bytes(msg), Expect("ignored", reason="loop"))


def _on(request: Mail, kind: str) -> Expect:
    return Expect("appended", request.key, kind)


def rewrite_bounce(raw: bytes, returned: str, own_id: str) -> bytes:
    """A corpus bounce returning ``returned`` instead of its original message, with a Message-ID
    of its own (so several bounces of one shape are different mails)."""
    original = returned_message_id(raw)
    raw = raw.replace(original.strip("<>").encode(), returned.strip("<>").encode())
    end = _HEADER_END.search(raw)
    if end is None:
        raise ValueError("a bounce without a body")
    newline = b"\r\n" if raw[end.start() : end.start() + 1] == b"\r" else b"\n"
    head = _MESSAGE_ID_HEADER.sub(b"", raw[: end.start()] + newline).rstrip(b"\r\n")
    return head + newline + f"Message-ID: {own_id}".encode() + raw[end.start() :]


def returned_message_id(raw: bytes) -> str:
    """The Message-ID a bounce returns, as the ticketer's classifier reads it."""
    verdict = classify(
        parse_mime(raw).facts,
        mailbox="nobody@example.invalid",
        own_message_id_domain="mailpipe.example.invalid",
        ignore_senders=(),
    )
    if verdict.kind != "bounce" or not verdict.original_message_id:
        raise ValueError(f"not a bounce that names its returned message: {verdict}")
    return str(verdict.original_message_id)
