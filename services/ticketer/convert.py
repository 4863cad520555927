"""Between the broker contracts and the record store's plain data. Pure functions, no I/O.

Mapping only: what to decide (threading, acknowledgements, their wording) is the domain's
(:mod:`services.ticketer.domain`)."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import NamedTuple, TypeGuard

from pydantic import ValidationError

from libs.common.contracts import (
    FIRST_PROVIDER,
    MAX_ATTACHMENTS,
    MAX_SUBJECT_CHARS,
    PROVIDER_PATTERN,
    Address,
    InboundEmail,
    OutboundEmail,
    OutboundResult,
    ProcessedEmail,
    RecordEvent,
    clean_header_value,
)
from libs.common.contracts.names import safe_display_name
from libs.common.record_token import record_token
from services.ticketer.domain.acknowledgement import (
    ack_job_id,
    ack_recipient,
    ack_references,
    ack_subject,
    ack_text,
)
from services.ticketer.domain.bodies import body_text, reply_text, sanitize_html
from services.ticketer.domain.facts import MailFacts
from services.ticketer.domain.threadkeys import thread_root
from services.ticketer.domain.verdict import Classification
from services.ticketer.store.models import (
    Attachment,
    DeliveryFailure,
    Kind,
    NewMessage,
    Party,
    ProcessedRow,
    RecordSummary,
)
from services.ticketer.store.prefetch import Expected

#: The contract allows 200 References; keep the newest when a thread is longer.
MAX_REFERENCES = 200


def fingerprint(email: InboundEmail) -> str:
    """sha256 of what the mail said as received — sender, subject, bodies, attachments —
    before any processing (quote stripping depends on how the mail threads, so two copies of
    one mail may be processed differently; what they said is the same)."""
    sender = email.from_ or email.sender
    said = [
        sender.address.lower() if sender else "",
        email.subject,
        email.body.text or "",
        email.body.html or "",
        sorted(a.blob.sha256 for a in email.attachments),
    ]
    return hashlib.sha256(json.dumps(said, ensure_ascii=True).encode()).hexdigest()


def new_message(
    email: InboundEmail,
    facts: MailFacts,
    kind: Kind,
    *,
    strip_quotes: bool = False,
    failures: tuple[DeliveryFailure, ...] = (),
) -> NewMessage:
    """The message row for an inbound email: sanitised HTML, derived text, the truncated flag.

    ``strip_quotes`` keeps only the new part of a reply in ``body_text``; the whole mail stays
    in ``body_html`` (and in the raw MIME blob when there is one).
    """
    text, html_in = _bodies(email, facts, strip_quotes=strip_quotes)
    sender = email.from_ or email.sender
    return NewMessage(
        mailbox=email.mailbox,
        direction="in",
        kind=kind,
        received_at=email.received_at,
        provider=email.provider,
        message_id=email.message_id,
        folder=email.folder,
        internet_message_id=email.internet_message_id,
        in_reply_to=facts.in_reply_to[0] if facts.in_reply_to else None,
        references=facts.references[-MAX_REFERENCES:],
        conversation_id=email.conversation_id,
        from_=_party(sender),
        to=tuple(Party(a.address, a.name) for a in email.to),
        cc=tuple(Party(a.address, a.name) for a in email.cc),
        subject=email.subject,
        body_text=text or None,
        body_html=sanitize_html(html_in) if html_in else None,
        truncated=email.body.truncated,
        content_sha256=fingerprint(email),
        attachments=_attachments(email),
        delivery_failures=failures,
    )


def _bodies(email: InboundEmail, facts: MailFacts, *, strip_quotes: bool) -> tuple[str, str | None]:
    """(derived text, HTML as received) of an inbound email: the contract's bodies, or the
    facts' (read from the raw MIME when there is one) where the contract has none."""
    text_in = email.body.text if email.body.text is not None else facts.text
    html_in = email.body.html if email.body.html is not None else facts.html
    text = reply_text(text_in, html_in) if strip_quotes else body_text(text_in, html_in)
    return text, html_in


#: The name the whole mail is stored under when its attachments filled the contract.
ORIGINAL_NAME = "original-message.eml"


def _attachments(email: InboundEmail) -> tuple[Attachment, ...]:
    """The email's attachments as the record stores them (bytes in the blob store). When they
    fill the contract, the fetcher kept the raw MIME, which holds any it left out: the record
    keeps it too (a blob no record names is collected after a week)."""
    stored = [
        Attachment(
            name=a.name,
            sha256=a.blob.sha256,
            size=a.blob.size,
            content_type=a.content_type,
            inline=a.is_inline,
            content_id=a.content_id,
        )
        for a in email.attachments
    ]
    raw = email.raw_mime
    if raw is not None and len(stored) >= MAX_ATTACHMENTS:
        stored.append(Attachment(ORIGINAL_NAME, raw.sha256, raw.size, "message/rfc822"))
    return tuple(stored)


def delivery_failures(verdict: Classification) -> tuple[DeliveryFailure, ...]:
    """The bounce's failed recipients, each naming the message of ours that bounced."""
    return tuple(
        DeliveryFailure(
            recipient=f.recipient or "(unknown)",
            status=f.status,
            diagnostic=f.diagnostic[:1000],
            original_message_id=verdict.original_message_id,
        )
        for f in verdict.failures
    ) or (
        DeliveryFailure(
            recipient="(unknown)", status="", original_message_id=verdict.original_message_id
        ),
    )


def processed_email(row: ProcessedRow) -> ProcessedEmail:
    return ProcessedEmail(
        mailbox=row.mailbox,
        folder=row.folder,
        provider=row.provider,
        message_id=row.message_id,
        internet_message_id=row.internet_message_id,
        outcome=row.outcome,
        record_id=row.record_id,
        reason=row.reason,
        processed_at=row.processed_at,
    )


def record_event(
    record: RecordSummary, change: str, internet_message_id: str | None, now: datetime
) -> RecordEvent:
    created = change == "new_request"
    return RecordEvent.model_validate(
        {
            "event": "created" if created else "updated",
            "record_id": record.id,
            "mailbox": record.mailbox,
            "subject": record.subject[:MAX_SUBJECT_CHARS],
            "requester": _address(record.requester),
            "status": record.status,
            "message_count": record.message_count,
            "change": change,
            "internet_message_id": internet_message_id,
            "occurred_at": now,
        }
    )


def ack_job(email: InboundEmail, record_id: int, token_format: str, now: datetime) -> OutboundEmail:
    """The auto-acknowledgement of a new record as a job (its wording, recipient, id and
    threading: :mod:`services.ticketer.domain.acknowledgement`)."""
    recipient = ack_recipient(email)
    if recipient is None:
        raise ValueError("the mail has no address to acknowledge")
    # What the customer wrote goes into our headers only as the sender's rules allow: a
    # subject without line breaks or controls, a name that cannot pose as an address.
    recipient = Address(address=recipient.address, name=safe_display_name(recipient.name))
    subject = ack_subject(clean_header_value(email.subject or "").strip())
    references = ack_references(email.headers.references, email.internet_message_id)
    return OutboundEmail(
        job_id=ack_job_id(email.mailbox, record_id, email.message_id),
        mailbox=email.mailbox,
        to=(recipient,),
        subject=subject[:MAX_SUBJECT_CHARS],
        text=ack_text(record_token(record_id, token_format)),
        in_reply_to=email.internet_message_id,
        references=references[-MAX_REFERENCES:],
        record_id=record_id,
        auto_submitted="auto-replied",
        created_at=now,
    )


def outbound_message(result: OutboundResult) -> NewMessage:
    """A sent job as an outbound message of its record (threading finds replies to it)."""
    assert result.mailbox is not None and result.internet_message_id is not None
    sender = result.sent_as or result.mailbox
    return NewMessage(
        mailbox=result.mailbox,
        direction="out",
        kind="outbound",
        received_at=result.finished_at,
        internet_message_id=result.internet_message_id,
        in_reply_to=result.in_reply_to,
        references=tuple(result.references),
        from_=Party(sender),
        to=tuple(Party(a.address, a.name) for a in result.to),
        cc=tuple(Party(a.address, a.name) for a in result.cc),
        subject=result.subject or "",
        body_text=result.text,
    )


class NamedMail(NamedTuple):
    """Which mail a quarantine entry is about: enough to find it in its mailbox again."""

    mailbox: str
    provider: str
    message_id: str
    folder: str


def named_email(body: bytes) -> NamedMail | None:
    """The mail a JSON body that breaks the InboundEmail contract names, if it does: its
    mailbox, provider and the provider's id (``graph_id`` in version 1, always Microsoft's)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # nesting too deep for the parser is broken too
        return None
    if not isinstance(data, dict):
        return None
    mailbox = data.get("mailbox")
    message_id = data.get("message_id", data.get("graph_id"))
    provider = data.get("provider", FIRST_PROVIDER if "graph_id" in data else None)
    if not (isinstance(mailbox, str) and _usable_id(message_id) and _usable_provider(provider)):
        return None
    return NamedMail(mailbox.lower(), provider, message_id, "inbox")


def _usable_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value) <= 1000 and not set("\r\n\x00") & set(value)


def _usable_provider(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and re.fullmatch(PROVIDER_PATTERN, value) is not None


def _party(address: Address | None) -> Party | None:
    return Party(address.address, address.name) if address is not None else None


def _address(party: Party | None) -> Address | None:
    """The record's requester as a contract address; one the contract refuses is left out."""
    if party is None:
        return None
    try:
        return Address(address=party.address, name=party.name)
    except ValidationError:
        return None


def expected(email: InboundEmail) -> Expected:
    """What handling ``email`` may look up: its Message-ID (the duplicate check, and whether
    a stored reply answers it), its thread's (In-Reply-To, References) and its conversation."""
    ids = (email.internet_message_id, email.headers.in_reply_to, *email.headers.references)
    return Expected(
        email.mailbox,
        tuple(i for i in ids if i),
        email.conversation_id,
        own_message_id=email.internet_message_id,
        thread_root=thread_root(email),
    )
