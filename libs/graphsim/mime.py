"""RFC 822 ⇄ Graph's message shape. Parsed once, when mail is seeded or sent, never per request.

``parse`` turns raw MIME into Graph properties and fileAttachments, for any bytes at all, as
Exchange converts whatever it receives (see :mod:`mimeparts`, :mod:`mimeheaders`,
:mod:`libs.common.text.charsets`); ``build`` turns a Graph JSON message (sendMail, drafts)
into the MIME that would have been sent.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import uuid
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parsedate_to_datetime
from typing import Any

from libs.common.text.charsets import decode_text, scrub
from libs.common.text.html import html_to_text as shared_html_to_text
from libs.common.text.mimetree import body_of
from libs.graphsim import mimeparts
from libs.graphsim.mimeheaders import header_text, recipients
from libs.graphsim.mimeheaders import recipient as recipient

_SPACE = re.compile(r"\s+")
_MSGID = re.compile(r"<[^<>]+>")
#: HTML read for a body preview: its start is all a preview shows.
PREVIEW_HTML_CHARS = 256 * 1024
_SUBJECT = re.compile(rb"^subject:[ \t]*(.*)$", re.I | re.M)
_NEWLINES = re.compile(r"[\r\n]+")
_CONTENT_TYPE = re.compile(r"^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$")


def iso(ts: dt.datetime) -> str:
    return ts.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def preview(text: str) -> str:
    return _SPACE.sub(" ", text).strip()[:255]


def html_to_text(markup: str) -> str:
    """The text a preview shows: the shared reading (tags stripped where inscriptis fails or
    the nesting is too deep for its parser) of the markup's start."""
    return shared_html_to_text(markup[:PREVIEW_HTML_CHARS])


def conversation_id(root_message_id: str) -> str:
    """Deterministic per thread root, so a reply lands in its original's conversation."""
    digest = hashlib.sha256(root_message_id.strip().lower().encode()).digest()
    return base64.urlsafe_b64encode(b"\x00\x10" + digest[:30]).decode()


def _thread_root(headers: dict[str, str], own_id: str) -> str:
    refs = _MSGID.findall(headers.get("references", ""))
    if refs:
        return refs[0]
    reply_to = _MSGID.findall(headers.get("in-reply-to", ""))
    return reply_to[0] if reply_to else own_id


def referenced_ids(headers: list[dict[str, str]]) -> list[str]:
    """Message-IDs named by In-Reply-To and References, nearest first, lower case."""
    found: list[str] = []
    for header in headers:
        if header["name"].lower() in ("in-reply-to", "references"):
            found += _MSGID.findall(header["value"])
    return [ref.lower() for ref in reversed(found)]


def _sent(date: str | None, received: str) -> str:
    if not date:
        return received
    try:
        return iso(parsedate_to_datetime(date))
    except (TypeError, ValueError, OverflowError, IndexError):
        return received


def _body(msg: mimeparts.Part) -> tuple[str, str, str, set[int], str | None]:
    """(contentType, content, plain text, ids of the body parts, the body's charset)."""
    body_part, text_part, hint = body_of(msg)
    skip = {id(p) for p in (body_part, text_part) if p is not None}
    if body_part is None:
        content_type, content = "text", ""
    else:
        content = mimeparts.text_of(body_part, hint)
        content_type = "html" if body_part.get_content_subtype() == "html" else "text"
    if text_part is body_part and body_part is not None and content_type == "text":
        plain = content
    else:
        plain = mimeparts.text_of(text_part, hint) if text_part else html_to_text(content)
    return content_type, content, plain, skip, hint


def _fields(
    received: str, headers: list[dict[str, str]], own_id: str, subject: str
) -> dict[str, Any]:
    """The properties every received message has, whatever it contains."""
    first = {h["name"].lower(): h["value"] for h in reversed(headers)}
    return {
        "createdDateTime": received,
        "lastModifiedDateTime": received,
        "categories": [],
        "receivedDateTime": received,
        "sentDateTime": _sent(first.get("date"), received),
        "hasAttachments": False,
        "internetMessageId": own_id,
        "subject": subject,
        "bodyPreview": "",
        "importance": "normal",
        "conversationId": conversation_id(_thread_root(first, own_id)),
        "conversationIndex": base64.b64encode(uuid.uuid4().bytes + b"\x00" * 6).decode(),
        "isDeliveryReceiptRequested": False,
        "isReadReceiptRequested": False,
        "isRead": False,
        "isDraft": False,
        "webLink": "https://outlook.office365.com/owa/?ItemID=sim&viewmodel=ReadMessageItem",
        "inferenceClassification": "focused",
        "body": {"contentType": "text", "content": ""},
        "sender": None,
        "from": None,
        "toRecipients": [],
        "ccRecipients": [],
        "bccRecipients": [],
        "replyTo": [],
        "flag": {"flagStatus": "notFlagged"},
        "internetMessageHeaders": headers,
    }


def parse(raw: bytes, received_at: dt.datetime, mailbox: str) -> tuple[dict[str, Any], list]:
    """Graph message properties and attachments of one RFC 822 message: any bytes at all."""
    received = iso(received_at)
    try:
        fields, attachments = _parse(raw, received, mailbox)
    except Exception:  # Exchange refuses no mail it accepted: serve what the bytes say
        fields, attachments = _unparsed(raw, received, mailbox), []
    return scrub(fields), scrub(attachments)


def _own_id(value: str | None, mailbox: str) -> str:
    return (value or "").strip() or make_msgid(domain=mailbox.split("@")[-1])


def _parse(raw: bytes, received: str, mailbox: str) -> tuple[dict[str, Any], list]:
    msg = mimeparts.parse_tree(raw)
    content_type, content, plain, skip, hint = _body(msg)
    headers = [{"name": k, "value": header_text(v, hint)} for k, v in msg.raw_items()]
    first = {h["name"].lower(): h["value"] for h in reversed(headers)}
    raw_first = {k.lower(): v for k, v in reversed(list(msg.raw_items()))}
    fields = _fields(received, headers, _own_id(first.get("message-id"), mailbox), "")
    agents = recipients(raw_first.get("sender"), hint)
    senders = recipients(raw_first.get("from"), hint) or agents
    attachments = mimeparts.attachments(msg, skip, received, hint)
    fields |= {
        "subject": first.get("subject", ""),
        "bodyPreview": preview(plain),
        "body": {"contentType": content_type, "content": content},
        "hasAttachments": any(not a["isInline"] for a in attachments),
        "from": senders[0] if senders else None,
        "sender": (agents or senders)[0] if agents or senders else None,
    }
    for key, header in (("toRecipients", "to"), ("ccRecipients", "cc"), ("bccRecipients", "bcc")):
        fields[key] = recipients(raw_first.get(header), hint)
    fields["replyTo"] = recipients(raw_first.get("reply-to"), hint)
    return fields, attachments


def _unparsed(raw: bytes, received: str, mailbox: str) -> dict[str, Any]:
    """A message the MIME parser could not take apart: its bytes as its text body."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    found = _SUBJECT.search(head)
    subject = header_text(decode_text(found.group(1).strip())) if found else ""
    text = decode_text(raw)
    fields = _fields(received, [], _own_id(None, mailbox), subject)
    fields |= {"bodyPreview": preview(text), "body": {"contentType": "text", "content": text}}
    return fields


# building -------------------------------------------------------------------------------


def _line(value: object) -> str:
    """A header value from client JSON: one line (a header cannot hold a line break)."""
    return _NEWLINES.sub(" ", str(value or ""))


def _addr(item: dict[str, Any]) -> Address:
    email = item.get("emailAddress") or {}
    address = _line(email.get("address"))
    local, _, domain = address.partition("@")
    return Address(display_name=_line(email.get("name")), username=local, domain=domain)


def addresses(items: list[dict[str, Any]] | None) -> list[str]:
    return [str((i.get("emailAddress") or {}).get("address", "")).lower() for i in items or []]


def build(message: dict[str, Any], sender: str, internet_message_id: str) -> EmailMessage:
    """The MIME Exchange would send for a Graph JSON message."""
    message = scrub(message)
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
    out["Subject"] = _line(message.get("subject"))
    out["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    out["Message-ID"] = internet_message_id
    for header in message.get("internetMessageHeaders") or []:
        out[_line(header["name"])] = _line(header["value"])
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
    for att in scrub(attachments):
        content_type = str(att.get("contentType") or "").lower()
        if not _CONTENT_TYPE.match(content_type):
            content_type = "application/octet-stream"
        maintype, _, subtype = content_type.partition("/")
        out.add_attachment(
            base64.b64decode(att.get("contentBytes") or ""),
            maintype=maintype,
            subtype=subtype,
            filename=_line(att.get("name")) or "attachment",
        )
