"""Seeded and sent RFC 822 as Gmail serves it: headers, the payload tree of ``format=full``,
attachments by id, a snippet, and what threading needs (Message-ID, references, subject).

The bytes are kept as they came (``format=raw`` serves them byte for byte); this module only
reads them, with the standard library's lenient compat32 parser, so any bytes are a message.
"""

from __future__ import annotations

import base64
import email
import email.header
import email.parser
import email.policy
import re
from dataclasses import dataclass, field
from email.message import Message as EmailMessage
from typing import Any

from libs.common.text.charsets import decode_html, decode_text
from libs.gmailsim import multipart

_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg)\s*:\s*)+", re.I)
_MSGID = re.compile(r"<[^<>\s]+>")
SNIPPET_CHARS = 200
#: Multipart nesting served as a tree; deeper parts are one opaque leaf (as in graphsim).
MAX_DEPTH = 64


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Gmail takes base64url with or without padding (and plain base64 too)."""
    cleaned = "".join(text.split()).replace("+", "-").replace("/", "_").rstrip("=")
    return base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))


def decoded_header(value: str | None) -> str:
    if not value:
        return ""
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (ValueError, LookupError, UnicodeError):
        return str(value)


@dataclass
class Part:
    part_id: str
    mime_type: str
    filename: str
    headers: list[dict[str, str]]
    data: bytes | None
    charset: str | None = None
    parts: list[Part] = field(default_factory=list)


@dataclass
class Parsed:
    headers: list[dict[str, str]]
    subject: str
    message_id: str
    references: list[str]
    topic: str
    snippet: str
    root: Part
    #: part id → decoded bytes of each part with a filename
    attachments: dict[str, bytes]

    def header(self, name: str) -> str:
        lowered = name.lower()
        return next((h["value"] for h in self.headers if h["name"].lower() == lowered), "")


def _headers(msg: EmailMessage) -> list[dict[str, str]]:
    return [{"name": str(k), "value": decoded_header(str(v))} for k, v in msg.items()]


def _payload(msg: EmailMessage) -> bytes:
    try:
        data = msg.get_payload(decode=True)
    except (ValueError, TypeError, AssertionError):
        data = None
    return data if isinstance(data, bytes) else b""


def _part(msg: EmailMessage, part_id: str, attachments: dict[str, bytes], depth: int = 0) -> Part:
    mime_type = msg.get_content_type()
    filename = decoded_header(msg.get_filename() or "")
    node = Part(part_id, mime_type, filename, _headers(msg), None, msg.get_content_charset())
    if msg.is_multipart() and depth >= MAX_DEPTH:
        node.mime_type, node.data = "application/octet-stream", b""
        return node
    if msg.is_multipart():
        subs = msg.get_payload()
        if isinstance(subs, list):
            for i, sub in enumerate(subs):
                sub_id = f"{part_id}.{i}" if part_id else str(i)
                node.parts.append(_part(sub, sub_id, attachments, depth + 1))
        return node
    data = _payload(msg)
    if filename:
        attachments[part_id or "0"] = data
    node.data = data
    return node


def _text_of(part: Part) -> str:
    if part.mime_type.startswith("text/") and not part.filename and part.data is not None:
        if part.mime_type == "text/html":
            return re.sub(r"<[^>]*>", " ", decode_html(part.data, part.charset))
        return decode_text(part.data, part.charset)
    return next((t for t in (_text_of(p) for p in part.parts) if t), "")


def _tree(raw: bytes) -> tuple[EmailMessage, Part, dict[str, bytes]]:
    attachments: dict[str, bytes] = {}
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        return msg, _part(msg, "", attachments), attachments
    except RecursionError:
        # nesting too deep for the standard parser: the headers, and the rest as one text body
        head = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
        body = multipart.split_head(raw)[1]
        return head, Part("", "text/plain", "", _headers(head), body), {}


def parse(raw: bytes) -> Parsed:
    msg, root, attachments = _tree(raw)
    subject = decoded_header(msg.get("Subject"))
    refs = _MSGID.findall(f"{msg.get('References', '')} {msg.get('In-Reply-To', '')}")
    found = _MSGID.findall(str(msg.get("Message-ID", "")))
    snippet = " ".join(_text_of(root).split())[:SNIPPET_CHARS]
    return Parsed(
        headers=_headers(msg),
        subject=subject,
        message_id=found[0] if found else "",
        references=refs,
        topic=_PREFIX.sub("", subject).strip().lower(),
        snippet=snippet,
        root=root,
        attachments=attachments,
    )


def render_part(part: Part, message_id: str, only: set[str] | None = None) -> dict[str, Any]:
    """A ``MessagePart`` of ``format=full`` (``only`` keeps just those headers: metadata)."""
    headers = part.headers
    if only is not None:
        headers = [h for h in headers if h["name"].lower() in only]
    body: dict[str, Any] = {"size": len(part.data or b"")}
    if part.filename:
        body["attachmentId"] = attachment_id(message_id, part.part_id)
    elif part.data is not None:
        body["data"] = b64url(part.data)
    return {
        "partId": part.part_id,
        "mimeType": part.mime_type,
        "filename": part.filename,
        "headers": headers,
        "body": body if only is None else {"size": body["size"]},
        **({"parts": [render_part(p, message_id) for p in part.parts]} if part.parts else {}),
    }


def attachment_id(message_id: str, part_id: str) -> str:
    return b64url(f"{message_id}:{part_id or '0'}".encode()).rstrip("=")


def attachment_key(att_id: str) -> tuple[str, str] | None:
    """(message id, part id) of an attachment id, or None if it is not one of ours."""
    try:
        message_id, _, part_id = b64url_decode(att_id).decode().partition(":")
    except (ValueError, UnicodeError):
        return None
    return (message_id, part_id) if part_id else None
