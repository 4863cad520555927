"""Gmail's raw RFC 822 (``format=raw``) as the port's plain data: one parse gives the
message's properties, body and attachments. Pure functions over bytes.

The tree, the body, the charsets and the headers are read by the shared text layer
(:mod:`libs.common.text.mimetree`, :mod:`libs.common.text.headers`) that the Graph simulator
uses to convert mail as Exchange does: one raw mail gives the same subject, addresses and body
whichever provider served it, whatever its charset labels, 8-bit headers or nesting.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser, BytesParser
from typing import Any

from libs.common.mail.models import Attachment, MailAddress, MailMessage, OutgoingAttachment
from libs.common.text.charsets import scrub
from libs.common.text.headblock import mend_head
from libs.common.text.headers import header_text, split_addresses
from libs.common.text.mimetree import POLICY, Part, body_of, content, parse_tree, text_of


def b64url_decode(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def raw_of(resource: dict[str, Any]) -> bytes:
    return b64url_decode(str(resource.get("raw", "")))


def _addresses(msg: Message, name: str, hint: str | None) -> tuple[MailAddress, ...]:
    return tuple(
        MailAddress(scrub(address), scrub(display))
        for value in msg.get_all(name, [])
        for display, address in split_addresses(value, hint)
    )


def _body(msg: Part, hint: str | None) -> tuple[str, str]:
    """The HTML body when there is one, else the text (as Graph chooses)."""
    part = body_of(msg)[0]
    if part is None:
        return "", "text"
    return scrub(text_of(part, hint)), "html" if part.get_content_subtype() == "html" else "text"


def _received(resource: dict[str, Any]) -> str | None:
    try:
        millis = int(resource["internalDate"])
    except (KeyError, TypeError, ValueError):
        return None
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat().replace("+00:00", "Z")


def to_message(resource: dict[str, Any], *, full: bool = True) -> MailMessage:
    """A ``format=raw`` resource as a :class:`MailMessage` (``full=False``: the summary)."""
    raw = raw_of(resource)
    msg = parse_tree(raw) if full else _head(raw)
    # A summary has no parts: a single-part mail's own charset is still its text's.
    hint = body_of(msg)[2]
    first = _addresses(msg, "From", hint)
    sender = _addresses(msg, "Sender", hint) or first
    summary = MailMessage(
        id=str(resource["id"]),
        internet_message_id=_header(msg, "Message-ID", hint).strip() or None,
        conversation_id=resource.get("threadId"),
        received_at=_received(resource),
        subject=_header(msg, "Subject", hint) if "Subject" in msg else None,
        from_=first[0] if first else None,
        sender=sender[0] if sender else None,
    )
    if not full:
        return summary
    body, body_type = _body(msg, hint)
    return _full(summary, msg, body, body_type, hint)


def _head(raw: bytes) -> Part:
    head = BytesHeaderParser(_class=Part, policy=POLICY).parsebytes(mend_head(raw))
    assert isinstance(head, Part)
    return head


def _header(msg: Message, name: str, hint: str | None) -> str:
    value = msg.get(name)
    return "" if value is None else scrub(header_text(value, hint))


def _full(
    summary: MailMessage, msg: Part, body: str, body_type: str, hint: str | None
) -> MailMessage:
    return replace(
        summary,
        to=_addresses(msg, "To", hint),
        cc=_addresses(msg, "Cc", hint),
        reply_to=_addresses(msg, "Reply-To", hint),
        has_attachments=any(_is_attachment(p) for p in msg.walk()),
        body=body,
        body_type="html" if body_type == "html" else "text",
        headers=tuple((k, scrub(header_text(v, hint))) for k, v in msg.raw_items()),
    )


def _is_attachment(part: Message) -> bool:
    if part.get_content_type() == "message/rfc822":
        return True  # an attached mail, named or not: Graph lists it as an item attachment
    if part.is_multipart():
        return False
    if _filename(part) or part.get_content_disposition() == "attachment":
        return True
    if isinstance(part, Part) and part.cut:  # nesting past the cut, kept whole (as Graph)
        return True
    # An inline image named only by its Content-ID (``cid:`` in the HTML) is an attachment
    # too, as Graph lists it (isInline): without it the body's image would be lost.
    inline = part.get_content_disposition() == "inline" or part.get("Content-ID") is not None
    return inline and part.get_content_maintype() != "text"


def _filename(part: Message) -> str | None:
    try:
        return part.get_filename()
    except (LookupError, ValueError):  # a filename parameter the email package cannot read
        return None


def attachments_of(raw: bytes) -> list[Attachment]:
    """The attachments of a raw message, bytes decoded; an attached message as its MIME (a
    part nested past the depth cut is one ``application/octet-stream`` attachment)."""
    out: list[Attachment] = []
    msg = parse_tree(raw)
    hint = body_of(msg)[2]
    for n, part in enumerate(msg.walk()):
        if not _is_attachment(part):
            continue
        item = part.get_content_type() == "message/rfc822"
        if item:
            inner = part.get_payload()
            first = inner[0] if isinstance(inner, list) and inner else None
            data = first.as_bytes() if isinstance(first, Message) else b""
        else:
            data = content(part) if isinstance(part, Part) else b""
        cid = part.get("Content-ID")
        name = _filename(part) or ("message.eml" if item else "attachment")
        out.append(
            Attachment(
                id=f"part-{n}",
                name=scrub(header_text(name, hint)),
                content_type=part.get_content_type(),
                size=len(data),
                is_inline=part.get_content_disposition() == "inline",
                content_id=scrub(str(cid)).strip("<> ") if cid else None,
                content=data,
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
