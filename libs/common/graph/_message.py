"""Graph's ``message`` JSON → the port's :class:`~libs.common.mail.models.MailMessage`.

Only the shape changes here: values stay as Graph gave them (an address may be empty or an
X.500 path, a header folded), so that the consumer's lenient mapping sees what it saw before.
Anything that is not of the expected shape is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from libs.common.mail.models import MailAddress, MailMessage


def to_message(data: Mapping[str, Any]) -> MailMessage:
    """The neutral message of one Graph ``message`` resource (only its selected properties)."""
    body = data.get("body")
    content, is_html = "", False
    if isinstance(body, Mapping):
        content = str(body.get("content") or "")
        is_html = str(body.get("contentType") or "").lower() == "html"
    return MailMessage(
        id=str(data.get("id") or ""),
        internet_message_id=_text(data.get("internetMessageId")),
        conversation_id=_text(data.get("conversationId")),
        received_at=_text(data.get("receivedDateTime")),
        subject=_text(data.get("subject")),
        from_=address_of(data.get("from")),
        sender=address_of(data.get("sender")),
        to=_addresses(data.get("toRecipients")),
        cc=_addresses(data.get("ccRecipients")),
        reply_to=_addresses(data.get("replyTo")),
        has_attachments=bool(data.get("hasAttachments")),
        body=content,
        body_type="html" if is_html else "text",
        headers=_headers(data.get("internetMessageHeaders")),
    )


def address_of(item: Any) -> MailAddress | None:
    """``{"emailAddress": {"name", "address"}}`` (or the bare inner form) → MailAddress."""
    if not isinstance(item, Mapping):
        return None
    inner = item.get("emailAddress", item)
    if not isinstance(inner, Mapping):
        return None
    return MailAddress(address=str(inner.get("address") or ""), name=str(inner.get("name") or ""))


def _addresses(items: Any) -> tuple[MailAddress, ...]:
    if not isinstance(items, list):
        return ()
    found = (address_of(item) for item in items)
    return tuple(a for a in found if a is not None)


def _headers(raw: Any) -> tuple[tuple[str, str], ...]:
    """``[{"name", "value"}, …]`` → (name, value) pairs; items without a name are left out."""
    if not isinstance(raw, list):
        return ()
    return tuple(
        (str(item["name"]), str(item.get("value") or ""))
        for item in raw
        if isinstance(item, Mapping) and item.get("name")
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
