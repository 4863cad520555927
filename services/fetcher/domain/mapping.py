"""A message as the mail port reads it (:class:`~libs.common.mail.MailMessage`, its
``full`` view) → ``InboundEmail``.

A provider's data is not always what a contract allows: addresses may be X.500 paths or empty
(bounces from the MAILER-DAEMON), bodies may exceed the limit, header values may be folded.
Everything is mapped leniently — an address that is not one is dropped, a long body is
truncated with a flag — because a mail that cannot be published can never become a record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from libs.common.contracts import (
    MAX_ATTACHMENTS,
    MAX_BODY_CHARS,
    MAX_RECIPIENTS,
    Address,
    AttachmentRef,
    BlobRef,
    Body,
    InboundEmail,
    MailHeaders,
)
from libs.common.mail.models import MailAddress, MailMessage
from libs.common.msgid import canonical_message_id
from services.fetcher.domain.headers import clean_value, extract_headers, unfold

#: Senders whose mail is a delivery report: the ticketer's bounce parser needs the raw MIME.
_REPORT_SENDERS = frozenset({"mailer-daemon", "postmaster", "mail-daemon"})


def parse_address(item: MailAddress | None) -> Address | None:
    """The contract's Address; ``None`` when it is not an address."""
    if item is None:
        return None
    # The contract's own validation is the check (the name is clean: only the address can
    # fail it); checking the address before as well was a second regex per address.
    try:
        return Address(address=item.address.strip(), name=clean_value(item.name))
    except ValueError:  # pydantic's ValidationError
        return None


def parse_addresses(items: Iterable[MailAddress]) -> tuple[Address, ...]:
    found = (parse_address(item) for item in items)
    return tuple(a for a in found if a is not None)[:MAX_RECIPIENTS]


def parse_time(value: str | None, default: datetime) -> datetime:
    """ISO times (``…Z`` too) as aware UTC datetimes; a missing or bad one → ``default``."""
    if not value:
        return default
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return default
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_body(message: MailMessage) -> Body:
    """The message's body (html or text) → Body, truncated past the limit."""
    content = message.body
    if not content:
        return Body()
    truncated = len(content) > MAX_BODY_CHARS
    kept = content[:MAX_BODY_CHARS]
    is_html = message.body_type == "html"
    return Body(
        text=None if is_html else kept,
        html=kept if is_html else None,
        truncated=truncated,
        original_chars=len(content),
    )


def _optional(value: str | None) -> str | None:
    text = clean_value(value)
    return text or None


def needs_attachments(message: MailMessage) -> bool:
    """Attachments to fetch: ``has_attachments``, or an HTML body that shows ``cid:`` images
    (Graph's hasAttachments ignores inline images)."""
    if message.has_attachments:
        return True
    if message.body_type == "html":
        return "cid:" in message.body.lower()
    return False


def needs_raw_mime(
    message: MailMessage, *, keep_raw_mime: bool, headers: MailHeaders | None = None
) -> bool:
    """Keep the raw MIME when configured, or when the mail looks like a delivery report
    (``multipart/report``, or from nobody / the MAILER-DAEMON / postmaster): the ticketer's
    bounce parser needs its delivery-status parts. ``headers``: the message's, when the
    caller has them already (extracting them is a good part of a mail's mapping)."""
    if keep_raw_mime:
        return True
    if headers is None:
        headers = extract_headers(message.headers)
    if (headers.content_type or "").lower().startswith("multipart/report"):
        return True
    sender = parse_address(message.from_) or parse_address(message.sender)
    if sender is None:
        return True
    return sender.address.split("@", 1)[0].lower() in _REPORT_SENDERS


def attachment_ref(
    name: str,
    content_type: str,
    blob: BlobRef,
    *,
    is_inline: bool = False,
    content_id: str | None = None,
) -> AttachmentRef:
    """An attachment's metadata; the Content-ID without its angle brackets (as ``cid:``
    URLs in the HTML name it)."""
    cid = clean_value(content_id).strip("<>") if content_id else ""
    return AttachmentRef(
        name=clean_value(name) or "attachment",
        content_type=clean_value(content_type) or "application/octet-stream",
        blob=blob,
        is_inline=is_inline,
        content_id=cid or None,
    )


def build_inbound(
    message: MailMessage,
    *,
    mailbox: str,
    provider: str,
    folder: str,
    fetched_at: datetime,
    attachments: Sequence[AttachmentRef] = (),
    raw_mime: BlobRef | None = None,
    headers: MailHeaders | None = None,
) -> InboundEmail:
    """The InboundEmail for one message; attachments and raw MIME already in blobs;
    ``headers`` as :func:`needs_raw_mime` had them (extracted here when not given)."""
    fetched = fetched_at.astimezone(UTC)
    return InboundEmail(
        mailbox=mailbox,
        folder=folder,
        provider=provider,
        message_id=message.id,
        internet_message_id=canonical_message_id(unfold(message.internet_message_id)),
        conversation_id=_optional(message.conversation_id),
        received_at=parse_time(message.received_at, fetched),
        fetched_at=fetched,
        from_=parse_address(message.from_),
        sender=parse_address(message.sender),
        to=parse_addresses(message.to),
        cc=parse_addresses(message.cc),
        reply_to=parse_addresses(message.reply_to),
        subject=clean_value(message.subject),
        body=parse_body(message),
        headers=extract_headers(message.headers) if headers is None else headers,
        attachments=tuple(_first(attachments, MAX_ATTACHMENTS)),
        raw_mime=raw_mime,
    )


def _first(items: Iterable[AttachmentRef], limit: int) -> list[AttachmentRef]:
    return list(items)[:limit]
