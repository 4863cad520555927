"""A Graph ``message`` resource (JSON, as ``$select``ed by :data:`FETCH_SELECT`) → ``InboundEmail``.

Graph's data is not always what a contract allows: addresses may be X.500 paths or empty
(bounces from the MAILER-DAEMON), bodies may exceed the limit, header values may be folded.
Everything is mapped leniently — an address that is not one is dropped, a long body is
truncated with a flag — because a mail that cannot be published can never become a record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from libs.common.contracts import (
    MAX_ATTACHMENTS,
    MAX_BODY_CHARS,
    MAX_RECIPIENTS,
    Address,
    AttachmentRef,
    BlobRef,
    Body,
    InboundEmail,
    check_address,
)
from libs.common.msgid import canonical_message_id
from services.fetcher.domain.headers import clean_value, extract_headers, unfold

#: What the fetcher asks Graph for per message (delta with ``$select``): exactly what an
#: InboundEmail needs, so that large pages stay small.
FETCH_SELECT = (
    "id",
    "internetMessageId",
    "conversationId",
    "receivedDateTime",
    "subject",
    "from",
    "sender",
    "toRecipients",
    "ccRecipients",
    "replyTo",
    "hasAttachments",
    "body",
    "internetMessageHeaders",
)

#: Senders whose mail is a delivery report: the ticketer's bounce parser needs the raw MIME.
_REPORT_SENDERS = frozenset({"mailer-daemon", "postmaster", "mail-daemon"})


def parse_address(item: Any) -> Address | None:
    """``{"emailAddress": {"name", "address"}}`` → Address; ``None`` when it is not an address."""
    if not isinstance(item, Mapping):
        return None
    inner = item.get("emailAddress", item)
    if not isinstance(inner, Mapping):
        return None
    address = str(inner.get("address") or "").strip()
    try:
        check_address(address)
    except ValueError:
        return None
    if len(address) > 320:
        return None
    return Address(address=address, name=clean_value(inner.get("name")))


def parse_addresses(items: Any) -> tuple[Address, ...]:
    if not isinstance(items, list):
        return ()
    found = (parse_address(item) for item in items)
    return tuple(a for a in found if a is not None)[:MAX_RECIPIENTS]


def parse_time(value: Any, default: datetime) -> datetime:
    """Graph's ISO times (``…Z``) as aware UTC datetimes; a missing or bad one → ``default``."""
    if not value:
        return default
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return default
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_body(item: Any) -> Body:
    """Graph's ``body`` (``contentType`` html or text) → Body, truncated past the limit."""
    if not isinstance(item, Mapping):
        return Body()
    content = str(item.get("content") or "")
    if not content:
        return Body()
    truncated = len(content) > MAX_BODY_CHARS
    kept = content[:MAX_BODY_CHARS]
    is_html = str(item.get("contentType") or "").lower() == "html"
    return Body(
        text=None if is_html else kept,
        html=kept if is_html else None,
        truncated=truncated,
        original_chars=len(content),
    )


def _optional(value: Any) -> str | None:
    text = clean_value(value)
    return text or None


def needs_attachments(message: Mapping[str, Any]) -> bool:
    """Attachments to fetch: ``hasAttachments``, or an HTML body that shows ``cid:`` images
    (Graph's hasAttachments ignores inline images)."""
    if message.get("hasAttachments"):
        return True
    body = message.get("body")
    if isinstance(body, Mapping) and str(body.get("contentType") or "").lower() == "html":
        return "cid:" in str(body.get("content") or "").lower()
    return False


def needs_raw_mime(message: Mapping[str, Any], *, keep_raw_mime: bool) -> bool:
    """Keep the raw MIME when configured, or when the mail looks like a delivery report
    (``multipart/report``, or from nobody / the MAILER-DAEMON / postmaster): the ticketer's
    bounce parser needs its delivery-status parts."""
    if keep_raw_mime:
        return True
    headers = extract_headers(message.get("internetMessageHeaders"))
    if (headers.content_type or "").lower().startswith("multipart/report"):
        return True
    sender = parse_address(message.get("from")) or parse_address(message.get("sender"))
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
    message: Mapping[str, Any],
    *,
    mailbox: str,
    folder: str,
    fetched_at: datetime,
    attachments: Sequence[AttachmentRef] = (),
    raw_mime: BlobRef | None = None,
) -> InboundEmail:
    """The InboundEmail for one Graph message; attachments and raw MIME already in blobs."""
    fetched = fetched_at.astimezone(UTC)
    return InboundEmail(
        mailbox=mailbox,
        folder=folder,
        graph_id=str(message["id"]),
        internet_message_id=canonical_message_id(unfold(message.get("internetMessageId"))),
        conversation_id=_optional(message.get("conversationId")),
        received_at=parse_time(message.get("receivedDateTime"), fetched),
        fetched_at=fetched,
        from_=parse_address(message.get("from")),
        sender=parse_address(message.get("sender")),
        to=parse_addresses(message.get("toRecipients")),
        cc=parse_addresses(message.get("ccRecipients")),
        reply_to=parse_addresses(message.get("replyTo")),
        subject=clean_value(message.get("subject")),
        body=parse_body(message.get("body")),
        headers=extract_headers(message.get("internetMessageHeaders")),
        attachments=tuple(_first(attachments, MAX_ATTACHMENTS)),
        raw_mime=raw_mime,
    )


def _first(items: Iterable[AttachmentRef], limit: int) -> list[AttachmentRef]:
    return list(items)[:limit]
