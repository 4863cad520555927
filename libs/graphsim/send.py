"""Sending: ``sendMail`` (JSON and MIME), drafts, attachments, upload sessions, ``send``.

Everything sent is recorded per mailbox (the control API lists it) and, unless
``saveToSentItems`` is false, saved to Sent Items. A ``from`` other than the mailbox needs a
send-as grant (control API), else 403 ``ErrorSendAsDenied``, as Exchange answers.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import secrets
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, make_msgid
from typing import Any

from libs.graphsim import mime
from libs.graphsim.errors import GraphHTTPError, bad_request
from libs.graphsim.mail import find
from libs.graphsim.query import render
from libs.graphsim.router import Call, GraphResponse, route
from libs.graphsim.state import Mailbox
from libs.graphsim.world import World

#: Headers Exchange drops from submitted MIME (loop markers must not rely on them).
STRIPPED_HEADERS = ("Auto-Submitted", "Bcc")
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _check_sender(box: Mailbox, sender: str) -> None:
    sender = sender.lower()
    if sender and sender != box.address and sender not in box.send_as:
        raise GraphHTTPError(
            403,
            "ErrorSendAsDenied",
            "The user account which was used to submit this request does not have the right to "
            "send mail on behalf of the specified sending account., Cannot submit message.",
        )


def _check_recipients(recipients: list[str]) -> None:
    if not recipients:
        raise bad_request(
            "At least one recipient is not valid., A message can't be sent because it "
            "contains no recipients.",
            "ErrorInvalidRecipients",
        )
    for address in recipients:
        if not _ADDRESS.match(address):
            raise bad_request(
                f"At least one recipient is not valid., Recipient '{address}' is not resolved.",
                "ErrorInvalidRecipients",
            )


def _record(world: World, box: Mailbox, out: EmailMessage, bcc: list[str], save: bool) -> None:
    for header in STRIPPED_HEADERS:
        del out[header]
    raw = bytes(out)
    box.sent.append(
        {
            "from": str(out.get("From", "")),
            "to": [a for _, a in getaddresses([str(v) for v in out.get_all("To", [])])],
            "cc": [a for _, a in getaddresses([str(v) for v in out.get_all("Cc", [])])],
            "bcc": bcc,
            "subject": str(out.get("Subject", "")),
            "internet_message_id": str(out.get("Message-ID", "")),
            "headers": {k: str(v) for k, v in out.items()},
            "mime_base64": base64.b64encode(raw).decode(),
            # When Exchange would count the send against the mailbox's rate (epoch seconds).
            "sent_at": time.time(),
        }
    )
    if save:
        sent_items = box.folder("sentitems")
        assert sent_items is not None
        world.seed(box, raw, sent_items).fields["isRead"] = True


def _check_headers(message: dict[str, Any]) -> None:
    for header in message.get("internetMessageHeaders") or []:
        name = str(header.get("name", ""))
        if not name.lower().startswith("x-"):
            raise bad_request(
                f"The internet message header name '{name}' should start with 'x-' or 'X-'.",
                "InvalidInternetMessageHeader",
            )


def _send_json(world: World, box: Mailbox, message: dict[str, Any], save: bool) -> None:
    _check_headers(message)
    sender = mime.addresses([message["from"]])[0] if message.get("from") else box.address
    _check_sender(box, sender)
    to_all = [
        *mime.addresses(message.get("toRecipients")),
        *mime.addresses(message.get("ccRecipients")),
        *mime.addresses(message.get("bccRecipients")),
    ]
    _check_recipients(to_all)
    domain = box.address.split("@")[1]
    message_id = str(message.get("internetMessageId") or make_msgid(domain=domain))
    out = mime.build(message, box.address, message_id)
    _record(world, box, out, mime.addresses(message.get("bccRecipients")), save)


def _decode_mime(body: bytes) -> tuple[bytes, EmailMessage]:
    """The raw RFC 822 bytes of a base64 MIME request body, and the parsed message."""
    try:
        raw = base64.b64decode(body, validate=False)
    except (binascii.Error, ValueError):
        raise bad_request(
            "Invalid base64 string for MIME content.", "ErrorMimeContentInvalidBase64String"
        ) from None
    out = BytesParser(policy=policy.default).parsebytes(raw)
    if not out.keys():
        raise bad_request(
            "Invalid base64 string for MIME content.", "ErrorMimeContentInvalidBase64String"
        )
    assert isinstance(out, EmailMessage)
    return raw, out


def _send_mime(world: World, box: Mailbox, body: bytes) -> None:
    _send_parsed(world, box, _decode_mime(body)[1])


def _send_parsed(world: World, box: Mailbox, out: EmailMessage) -> None:
    senders = getaddresses([str(out.get("From", ""))])
    _check_sender(box, senders[0][1] if senders else "")
    bcc = [a for _, a in getaddresses([str(v) for v in out.get_all("Bcc", [])])]
    to_all = [
        a for _, a in getaddresses([str(v) for h in ("To", "Cc") for v in out.get_all(h, [])])
    ]
    _check_recipients(to_all + bcc)
    if "Message-ID" not in out:
        out["Message-ID"] = make_msgid(domain=box.address.split("@")[1])
    _record(world, box, out, bcc, save=True)


def _accepted(world: World) -> GraphResponse:
    """202, unless the ``lose_send_responses`` fault eats this answer: the mail is out (and
    in Sent Items) and the client gets a 504, not knowing whether it went."""
    if world.faults.lose_send_responses > 0:
        world.faults.lose_send_responses -= 1
        raise GraphHTTPError(504, "GatewayTimeout", "The gateway did not receive a response.")
    return GraphResponse(202)


@route("POST", "users/{u}/sendMail", "send")
def send_mail(world: World, call: Call) -> GraphResponse:
    if call.req.headers.get("content-type", "").lower().startswith("text/plain"):
        _send_mime(world, call.box, call.req.body)
        return _accepted(world)
    data = call.req.json()
    message = data.get("message") or data.get("Message")
    if not isinstance(message, dict):
        raise bad_request("Empty Payload. JSON content expected.", "ErrorInvalidRequest")
    save = data.get("saveToSentItems", data.get("SaveToSentItems", True))
    _send_json(world, call.box, message, bool(save is not False and str(save).lower() != "false"))
    return _accepted(world)


def _draft_fields(box: Mailbox, message: dict[str, Any]) -> dict[str, Any]:
    now = mime.iso(dt.datetime.now(dt.UTC))
    domain = box.address.split("@")[1]
    body = message.get("body") or {"contentType": "text", "content": ""}
    me = mime.recipient(box.display_name, box.address)
    return {
        "createdDateTime": now,
        "lastModifiedDateTime": now,
        "categories": [],
        "receivedDateTime": now,
        "sentDateTime": now,
        "hasAttachments": False,
        "internetMessageId": str(message.get("internetMessageId") or make_msgid(domain=domain)),
        "subject": str(message.get("subject") or ""),
        "bodyPreview": mime.preview(str(body.get("content") or "")),
        "importance": message.get("importance", "normal"),
        "conversationId": mime.conversation_id(make_msgid(domain=domain)),
        "conversationIndex": base64.b64encode(b"\x01" * 22).decode(),
        "isDeliveryReceiptRequested": False,
        "isReadReceiptRequested": False,
        "isRead": True,
        "isDraft": True,
        "webLink": "https://outlook.office365.com/owa/?ItemID=sim",
        "inferenceClassification": "focused",
        "body": body,
        "sender": message.get("sender") or message.get("from") or me,
        "from": message.get("from") or me,
        "toRecipients": message.get("toRecipients") or [],
        "ccRecipients": message.get("ccRecipients") or [],
        "bccRecipients": message.get("bccRecipients") or [],
        "replyTo": message.get("replyTo") or [],
        "flag": {"flagStatus": "notFlagged"},
        "internetMessageHeaders": message.get("internetMessageHeaders") or [],
    }


def file_attachment(data: dict[str, Any]) -> dict[str, Any]:
    content = str(data.get("contentBytes") or "")
    try:
        size = len(base64.b64decode(content, validate=True))
    except (binascii.Error, ValueError):
        raise bad_request("The attachment's contentBytes is not valid base64.") from None
    return {
        "@odata.type": "#microsoft.graph.fileAttachment",
        "id": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "lastModifiedDateTime": mime.iso(dt.datetime.now(dt.UTC)),
        "name": str(data.get("name") or "attachment"),
        "contentType": str(data.get("contentType") or "application/octet-stream"),
        "size": size,
        "isInline": bool(data.get("isInline", False)),
        "contentId": data.get("contentId"),
        "contentLocation": None,
        "contentBytes": content,
    }


@route("POST", "users/{u}/messages", "write")
def create_draft(world: World, call: Call) -> GraphResponse:
    box = call.box
    if call.req.headers.get("content-type", "").lower().startswith("text/plain"):
        return _create_mime_draft(world, call)
    message = call.req.json()
    _check_headers(message)
    attachments = [file_attachment(a) for a in message.get("attachments") or []]
    drafts = box.folder("drafts")
    assert drafts is not None
    now = dt.datetime.now(dt.UTC).timestamp()
    msg = box.add(drafts, _draft_fields(box, message), b"", attachments, now)
    msg.fields["hasAttachments"] = any(not a["isInline"] for a in attachments)
    return GraphResponse(201, render(msg, None, call.req.immutable))


@route("POST", "users/{u}/messages/{m}/attachments", "write")
def add_attachment(world: World, call: Call) -> GraphResponse:
    msg = find(call)
    att = file_attachment(call.req.json())
    msg.attachments.append(att)
    msg.fields["hasAttachments"] = any(not a["isInline"] for a in msg.attachments)
    call.box.touch(msg)
    return GraphResponse(201, att)


def _create_mime_draft(world: World, call: Call) -> GraphResponse:
    """A draft from base64 MIME: every header (Message-ID, In-Reply-To, References, X-)
    is kept, as Graph keeps them, and the MIME's attachments become the draft's."""
    box = call.box
    raw, _ = _decode_mime(call.req.body)
    now = dt.datetime.now(dt.UTC)
    fields, attachments = mime.parse(raw, now, box.address)
    fields.update(isDraft=True, isRead=True)
    drafts = box.folder("drafts")
    assert drafts is not None
    msg = box.add(drafts, fields, raw, attachments, now.timestamp())
    return GraphResponse(201, render(msg, None, call.req.immutable))


def _mime_with_added_attachments(raw: bytes, added: list[dict[str, Any]]) -> EmailMessage:
    out = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(out, EmailMessage)
    mime.add_attachments(out, added)
    return out


@route("POST", "users/{u}/messages/{m}/send", "send")
def send_draft(world: World, call: Call) -> GraphResponse:
    box, msg = call.box, find(call)
    if not msg.fields.get("isDraft"):
        raise bad_request("Only a draft can be sent.", "ErrorInvalidOperation")
    if msg.mime:
        # Created from MIME: send those bytes, plus the attachments added since.
        _, original = mime.parse(msg.mime, dt.datetime.now(dt.UTC), box.address)
        added = msg.attachments[len(original) :]
        _send_parsed(world, box, _mime_with_added_attachments(msg.mime, added))
    else:
        message = dict(msg.fields) | {"attachments": msg.attachments}
        _send_json(world, box, message, save=True)
    box.purge(msg)
    return _accepted(world)
