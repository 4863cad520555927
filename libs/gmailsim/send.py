"""Sending: ``messages/send`` (JSON with base64url ``raw``) and the send-as settings.

What Gmail does and the simulator copies: the From header must be the user's address or one
of the user's send-as aliases whose verification is ``accepted``; any other From is rewritten
to the user's primary address (recorded as ``from_rewritten`` in the sent list). Message-ID
and Date are added when missing. The sender's copy gets the SENT label (Bcc kept); every
recipient that is a simulated mailbox gets the message (Bcc removed) in INBOX, UNREAD. The
``lose_send_responses`` fault answers a send that went out with a 500.
"""

from __future__ import annotations

import time
from typing import Any

from libs.gmailsim import mime, outgoing
from libs.gmailsim.errors import GmailHTTPError, bad_request, not_found
from libs.gmailsim.router import ApiResponse, Call, route
from libs.gmailsim.state import Mailbox, Message
from libs.gmailsim.world import World

#: Gmail's limit for a message sent through the API (upload endpoints).
MAX_MESSAGE_BYTES = 35 * 1024 * 1024


def too_large() -> GmailHTTPError:
    return GmailHTTPError(413, "uploadTooLarge", "Request payload size exceeds the limit: 35 MB.")


def _allowed_from(box: Mailbox, address: str) -> bool:
    return address == box.address or box.send_as.get(address) == "accepted"


def send_raw(
    world: World, box: Mailbox, raw: bytes, thread_id: str | None, *, answer: bool = True
) -> Message:
    """Send ``raw``; unless ``answer`` is False the caller answers at once, and the
    ``lose_send_responses`` fault may eat the answer here."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise too_large()
    lines, gap, body = outgoing.split(raw)
    recipients = outgoing.addresses(lines, "to", "cc", "bcc")
    if not recipients:
        raise bad_request("Recipient address required", "invalidArgument")
    if thread_id and not any(m.thread_id == thread_id for m in box.messages.values()):
        raise not_found()
    sender = (outgoing.addresses(lines, "from") or [""])[0]
    rewritten = not _allowed_from(box, sender)
    if rewritten:
        lines = outgoing.with_from(lines, box.address)
    lines = outgoing.completed(lines, box.address.partition("@")[2] or "gmail.com")
    final = outgoing.join(lines, gap, body)
    now_ms = int(time.time() * 1000)
    msg = box.add(final, {"SENT"}, now_ms, thread_id)
    delivered = outgoing.join(outgoing.without(lines, "bcc"), gap, body)
    for address in dict.fromkeys(recipients):
        _deliver(world, box, msg, address, delivered, now_ms)
    box.sent.append(_sent_record(lines, final, msg, rewritten, sender))
    if answer:
        answer_lost(world)
    return msg


def answer_lost(world: World) -> None:
    """Unless the ``lose_send_responses`` fault eats the answer: the mail is out (sent list,
    SENT label, recipients) and the client gets a 500, not knowing whether it went."""
    if world.faults.lose_send_responses > 0:
        world.faults.lose_send_responses -= 1
        raise GmailHTTPError(500, "backendError", "Backend Error")


def _deliver(world: World, box: Mailbox, msg: Message, to: str, raw: bytes, now_ms: int) -> None:
    target = world.mailbox(to)
    if target is None:
        return
    if target is box:
        # Mail to oneself is one message in both SENT and INBOX, as in Gmail.
        box.change_labels(msg, {"INBOX", "UNREAD"}, set())
        return
    target.add(raw, {"INBOX", "UNREAD"}, now_ms, None)


def _sent_record(
    lines: list[bytes], raw: bytes, msg: Message, rewritten: bool, asked_from: str
) -> dict[str, Any]:
    return {
        "id": msg.id,
        "thread_id": msg.thread_id,
        "from": outgoing.value(lines, "from"),
        "requested_from": asked_from,
        "from_rewritten": rewritten,
        "to": outgoing.addresses(lines, "to"),
        "cc": outgoing.addresses(lines, "cc"),
        "bcc": outgoing.addresses(lines, "bcc"),
        "subject": msg.parsed.subject,
        "internet_message_id": msg.parsed.message_id,
        "mime_base64": mime.b64url(raw),
        "sent_at": time.time(),
    }


@route("POST", "users/{u}/messages/send", "send", 100)
def send_message(world: World, call: Call) -> ApiResponse:
    data = call.req.json()
    try:
        raw = mime.b64url_decode(str(data.get("raw") or ""))
    except ValueError:
        raise bad_request("Invalid value for ByteString") from None
    if not raw:
        raise bad_request(
            "'raw' RFC822 payload message string or uploading message via /upload/* URL required"
        )
    msg = send_raw(world, call.box, raw, data.get("threadId") or None)
    return ApiResponse(200, {"id": msg.id, "threadId": msg.thread_id, "labelIds": ["SENT"]})


def _send_as(box: Mailbox, address: str) -> dict[str, Any]:
    if address == box.address:
        return {
            "sendAsEmail": address,
            "displayName": "",
            "replyToAddress": "",
            "signature": "",
            "isPrimary": True,
            "isDefault": True,
        }
    return {
        "sendAsEmail": address,
        "displayName": "",
        "replyToAddress": "",
        "signature": "",
        "treatAsAlias": True,
        "verificationStatus": box.send_as[address],
    }


@route("GET", "users/{u}/settings/sendAs", "settings", 1)
def list_send_as(world: World, call: Call) -> ApiResponse:
    box = call.box
    return ApiResponse(
        200, {"sendAs": [_send_as(box, a) for a in [box.address, *sorted(box.send_as)]]}
    )


@route("GET", "users/{u}/settings/sendAs/{email}", "settings", 1)
def get_send_as(world: World, call: Call) -> ApiResponse:
    address = call.params["email"].lower()
    if address != call.box.address and address not in call.box.send_as:
        raise not_found()
    return ApiResponse(200, _send_as(call.box, address))


@route("POST", "users/{u}/settings/sendAs", "sharing", 100)
def create_send_as(world: World, call: Call) -> ApiResponse:
    address = str(call.req.json().get("sendAsEmail") or "").lower()
    if "@" not in address:
        raise bad_request("Invalid sendAsEmail")
    if address == call.box.address or address in call.box.send_as:
        raise GmailHTTPError(409, "duplicate", "A send-as alias with that address already exists.")
    # An address of the same domain needs no verification (domain-wide delegation); any
    # other waits for its owner to follow the link Gmail mails: pending until then.
    same_domain = address.partition("@")[2] == call.box.address.partition("@")[2]
    call.box.send_as[address] = "accepted" if same_domain else "pending"
    return ApiResponse(200, _send_as(call.box, address))


@route("DELETE", "users/{u}/settings/sendAs/{email}", "sharing", 5)
def delete_send_as(world: World, call: Call) -> ApiResponse:
    if call.box.send_as.pop(call.params["email"].lower(), None) is None:
        raise not_found()
    return ApiResponse(204)
