"""RFC 822 ⇄ Graph's message shape. Parsed once, when mail is seeded or sent, never per request.

``parse`` turns raw MIME into Graph properties and fileAttachments; ``build`` turns a Graph JSON
message (sendMail, drafts) into the MIME that would have been sent.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import re
import uuid
from collections.abc import Iterator
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid, parsedate_to_datetime
from typing import Any

_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_STYLE = re.compile(r"<(style|script)\b.*?</\1>", re.S | re.I)
_MSGID = re.compile(r"<[^<>]+>")


def iso(ts: dt.datetime) -> str:
    return ts.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def recipient(name: str, address: str) -> dict[str, Any]:
    return {"emailAddress": {"name": name or address, "address": address}}


def _recipients(msg: EmailMessage, header: str) -> list[dict[str, Any]]:
    value = msg[header]
    if value is None:
        return []
    try:
        addresses = value.addresses
    except AttributeError:
        return []
    return [recipient(a.display_name, a.addr_spec) for a in addresses if a.addr_spec]


def preview(text: str) -> str:
    return _SPACE.sub(" ", text).strip()[:255]


def html_to_text(markup: str) -> str:
    return html.unescape(_TAGS.sub(" ", _STYLE.sub(" ", markup)))


def conversation_id(root_message_id: str) -> str:
    """Deterministic per thread root, so a reply lands in its original's conversation."""
    digest = hashlib.sha256(root_message_id.strip().lower().encode()).digest()
    return base64.urlsafe_b64encode(b"\x00\x10" + digest[:30]).decode()


def _thread_root(msg: EmailMessage, own_id: str) -> str:
    refs = _MSGID.findall(str(msg.get("References", "")))
    if refs:
        return refs[0]
    reply_to = _MSGID.findall(str(msg.get("In-Reply-To", "")))
    return reply_to[0] if reply_to else own_id


def referenced_ids(headers: list[dict[str, str]]) -> list[str]:
    """Message-IDs named by In-Reply-To and References, nearest first, lower case."""
    found: list[str] = []
    for header in headers:
        if header["name"].lower() in ("in-reply-to", "references"):
            found += _MSGID.findall(header["value"])
    return [ref.lower() for ref in reversed(found)]


def _decoded(part: EmailMessage) -> bytes:
    if part.get_content_maintype() == "message":
        # The email package parses message/* bodies into message objects: an attached mail
        # (rfc822) or the header blocks of a report (delivery-status, disposition-notification).
        inner = part.get_payload()
        if isinstance(inner, list):
            return b"\n".join(block.as_bytes() for block in inner)  # type: ignore[union-attr]
        return inner.encode() if isinstance(inner, str) else b""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _leaves(part: EmailMessage) -> Iterator[EmailMessage]:
    """Leaf parts; an attached message or a report's status part counts as one leaf."""
    if part.get_content_maintype() != "message" and part.is_multipart():
        for child in part.iter_parts():
            yield from _leaves(child)  # type: ignore[arg-type]
    else:
        yield part


def _attachments(msg: EmailMessage, skip: set[int], received: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in _leaves(msg):
        if id(part) in skip:
            continue
        data = _decoded(part)
        disposition = part.get_content_disposition()
        content_id = (part.get("Content-ID") or "").strip().strip("<>") or None
        name = part.get_filename() or f"ATT{len(out) + 1:05d}.{part.get_content_subtype()}"
        out.append(
            {
                "@odata.type": "#microsoft.graph.fileAttachment",
                "id": base64.urlsafe_b64encode(uuid.uuid4().bytes * 2).decode(),
                "lastModifiedDateTime": received,
                "name": name,
                "contentType": part.get_content_type(),
                "size": len(data),
                "isInline": disposition == "inline" or (disposition is None and bool(content_id)),
                "contentId": content_id,
                "contentLocation": None,
                "contentBytes": base64.b64encode(data).decode(),
            }
        )
    return out


def _headers(msg: EmailMessage) -> list[dict[str, str]]:
    return [{"name": k, "value": str(v)} for k, v in msg.items()]


def parse(raw: bytes, received_at: dt.datetime, mailbox: str) -> tuple[dict[str, Any], list]:
    """Graph message properties and attachments of one RFC 822 message."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    received = iso(received_at)
    own_id = str(msg.get("Message-ID", "")).strip() or make_msgid(domain=mailbox.split("@")[-1])
    body_part = msg.get_body(preferencelist=("html", "plain"))
    text_part = msg.get_body(preferencelist=("plain",))
    skip = {id(p) for p in (body_part, text_part) if p is not None}
    if body_part is None:
        content_type, content = "text", ""
    else:
        content = body_part.get_content()
        content_type = "html" if body_part.get_content_subtype() == "html" else "text"
    plain = text_part.get_content() if text_part is not None else html_to_text(content)
    try:
        sent = iso(parsedate_to_datetime(str(msg["Date"]))) if msg["Date"] else received
    except (TypeError, ValueError):
        sent = received
    senders = _recipients(msg, "From")
    attachments = _attachments(msg, skip, received)
    fields: dict[str, Any] = {
        "createdDateTime": received,
        "lastModifiedDateTime": received,
        "categories": [],
        "receivedDateTime": received,
        "sentDateTime": sent,
        "hasAttachments": any(not a["isInline"] for a in attachments),
        "internetMessageId": own_id,
        "subject": str(msg.get("Subject", "")),
        "bodyPreview": preview(plain),
        "importance": "normal",
        "conversationId": conversation_id(_thread_root(msg, own_id)),
        "conversationIndex": base64.b64encode(uuid.uuid4().bytes + b"\x00" * 6).decode(),
        "isDeliveryReceiptRequested": False,
        "isReadReceiptRequested": False,
        "isRead": False,
        "isDraft": False,
        "webLink": "https://outlook.office365.com/owa/?ItemID=sim&viewmodel=ReadMessageItem",
        "inferenceClassification": "focused",
        "body": {"contentType": content_type, "content": content},
        "sender": (_recipients(msg, "Sender") or senders or [None])[0],  # type: ignore[list-item]
        "from": senders[0] if senders else None,
        "toRecipients": _recipients(msg, "To"),
        "ccRecipients": _recipients(msg, "Cc"),
        "bccRecipients": _recipients(msg, "Bcc"),
        "replyTo": _recipients(msg, "Reply-To"),
        "flag": {"flagStatus": "notFlagged"},
        "internetMessageHeaders": _headers(msg),
    }
    return fields, attachments


# building -------------------------------------------------------------------------------


def _addr(item: dict[str, Any]) -> Address:
    email = item.get("emailAddress") or {}
    address = str(email.get("address", ""))
    local, _, domain = address.partition("@")
    return Address(display_name=str(email.get("name") or ""), username=local, domain=domain)


def addresses(items: list[dict[str, Any]] | None) -> list[str]:
    return [str((i.get("emailAddress") or {}).get("address", "")).lower() for i in items or []]


def build(message: dict[str, Any], sender: str, internet_message_id: str) -> EmailMessage:
    """The MIME Exchange would send for a Graph JSON message."""
    out = EmailMessage()
    frm = message.get("from") or {"emailAddress": {"address": sender}}
    out["From"] = _addr(frm)
    # Send-as puts the agent in From and no Sender; only send-on-behalf names a Sender.
    on_behalf = message.get("sender")
    if on_behalf and addresses([on_behalf]) != addresses([frm]):
        out["Sender"] = _addr(on_behalf)
    for header, key in (("To", "toRecipients"), ("Cc", "ccRecipients"), ("Reply-To", "replyTo")):
        if message.get(key):
            out[header] = [_addr(r) for r in message[key]]
    out["Subject"] = str(message.get("subject") or "")
    out["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    out["Message-ID"] = internet_message_id
    for header in message.get("internetMessageHeaders") or []:
        out[str(header["name"])] = str(header["value"])
    body = message.get("body") or {}
    content = str(body.get("content") or "")
    if str(body.get("contentType", "text")).lower() == "html":
        out.set_content(content, subtype="html")
    else:
        out.set_content(content)
    add_attachments(out, message.get("attachments") or [])
    return out


def add_attachments(out: EmailMessage, attachments: list[dict[str, Any]]) -> None:
    """Graph ``fileAttachment`` JSON (base64 ``contentBytes``) added as MIME parts."""
    for att in attachments:
        maintype, _, subtype = str(att.get("contentType") or "application/octet-stream").partition(
            "/"
        )
        out.add_attachment(
            base64.b64decode(att.get("contentBytes") or ""),
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=str(att.get("name") or "attachment"),
        )
