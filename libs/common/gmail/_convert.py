"""Gmail's raw RFC 822 (``format=raw``) as the port's plain data: one parse gives the
message's properties, body and attachments. Pure functions over bytes."""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses
from typing import Any

from libs.common.mail.models import Attachment, MailAddress, MailMessage, OutgoingAttachment

_PARSER = BytesParser(policy=policy.compat32)


def b64url_decode(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def raw_of(resource: dict[str, Any]) -> bytes:
    return b64url_decode(str(resource.get("raw", "")))


#: A line break that folds a header (RFC 5322 2.2.3: unfolding removes it, the blank stays).
_FOLD = re.compile(r"\r?\n(?=[ \t])")


def _text(value: object) -> str:
    """A header as text, unfolded and encoded words decoded; never raises on odd bytes.
    (The raw value keeps its folds: decoded as it is, a fold after an encoded word would
    become a second blank, as Graph never gives it.)"""
    if value is None:
        return ""
    try:
        return str(policy.default.header_factory("x-any", _FOLD.sub("", str(value))))
    except Exception:  # a malformed header is still a header: keep it as given
        return str(value)


def _addresses(msg: Message, name: str) -> tuple[MailAddress, ...]:
    values = [_text(v) for v in msg.get_all(name, [])]
    return tuple(MailAddress(a, n) for n, a in getaddresses(values) if a or n)


def _body(msg: Message) -> tuple[str, str]:
    """The HTML body when there is one, else the text (as Graph chooses)."""
    found: dict[str, str] = {}
    for part in msg.walk():
        if part.is_multipart() or part.get_filename() or part.get_content_maintype() != "text":
            continue
        kind = "html" if part.get_content_subtype() == "html" else "text"
        if kind in found or part.get_content_subtype() not in ("plain", "html"):
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            found[kind] = payload.decode(part.get_content_charset() or "utf-8", "replace")
    if "html" in found:
        return found["html"], "html"
    return found.get("text", ""), "text"


def _received(resource: dict[str, Any]) -> str | None:
    try:
        millis = int(resource["internalDate"])
    except (KeyError, TypeError, ValueError):
        return None
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat().replace("+00:00", "Z")


def to_message(resource: dict[str, Any], *, full: bool = True) -> MailMessage:
    """A ``format=raw`` resource as a :class:`MailMessage` (``full=False``: the summary)."""
    raw = raw_of(resource)
    msg = _PARSER.parsebytes(raw) if full else BytesHeaderParser().parsebytes(raw)
    first = _addresses(msg, "From")
    sender = _addresses(msg, "Sender") or first
    summary = MailMessage(
        id=str(resource["id"]),
        internet_message_id=_text(msg.get("Message-ID")).strip() or None,
        conversation_id=resource.get("threadId"),
        received_at=_received(resource),
        subject=_text(msg.get("Subject")) if "Subject" in msg else None,
        from_=first[0] if first else None,
        sender=sender[0] if sender else None,
    )
    if not full:
        return summary
    body, body_type = _body(msg)
    return _full(summary, msg, body, body_type)


def _full(summary: MailMessage, msg: Message, body: str, body_type: str) -> MailMessage:
    return replace(
        summary,
        to=_addresses(msg, "To"),
        cc=_addresses(msg, "Cc"),
        reply_to=_addresses(msg, "Reply-To"),
        has_attachments=any(_is_attachment(p) for p in msg.walk()),
        body=body,
        body_type="html" if body_type == "html" else "text",
        headers=tuple((k, str(v)) for k, v in msg.items()),
    )


def _is_attachment(part: Message) -> bool:
    if part.is_multipart() and part.get_content_type() != "message/rfc822":
        return False
    if part.get_filename() or part.get_content_disposition() == "attachment":
        return True
    # An inline image named only by its Content-ID (``cid:`` in the HTML) is an attachment
    # too, as Graph lists it (isInline): without it the body's image would be lost.
    inline = part.get_content_disposition() == "inline" or part.get("Content-ID") is not None
    return inline and part.get_content_maintype() != "text"


def attachments_of(raw: bytes) -> list[Attachment]:
    """The attachments of a raw message, bytes decoded; an attached message as its MIME."""
    out: list[Attachment] = []
    for n, part in enumerate(_PARSER.parsebytes(raw).walk()):
        if not _is_attachment(part):
            continue
        item = part.get_content_type() == "message/rfc822"
        if item:
            inner = part.get_payload()
            first = inner[0] if isinstance(inner, list) and inner else None
            content = first.as_bytes() if isinstance(first, Message) else b""
        else:
            payload = part.get_payload(decode=True)
            content = payload if isinstance(payload, bytes) else b""
        cid = part.get("Content-ID")
        out.append(
            Attachment(
                id=f"part-{n}",
                name=_text(part.get_filename() or ("message.eml" if item else "attachment")),
                content_type=part.get_content_type(),
                size=len(content),
                is_inline=part.get_content_disposition() == "inline",
                content_id=str(cid).strip("<> ") if cid else None,
                content=content,
                kind="item" if item else "file",
            )
        )
    return out


def headers_of(raw: bytes) -> Message:
    return BytesHeaderParser(policy=policy.compat32).parsebytes(raw)


def with_attachments(raw: bytes, attachments: list[OutgoingAttachment]) -> bytes:
    """The message with ``attachments`` added (Gmail has no draft to add them to later)."""
    msg = BytesParser(policy=policy.SMTP).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    for att in attachments:
        maintype, _, subtype = att.content_type.partition("/")
        msg.add_attachment(
            att.content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=att.name,
            disposition="inline" if att.is_inline else "attachment",
            cid=f"<{att.content_id}>" if att.content_id else None,
        )
    return msg.as_bytes()
