"""``users/{u}/messages``: list, get (minimal, metadata, full, raw), attachments, trash,
untrash, delete, modify, batchModify and batchDelete. Quota units are Gmail's."""

from __future__ import annotations

from typing import Any

from libs.gmailsim import mime
from libs.gmailsim.errors import bad_request, not_found
from libs.gmailsim.query import compile_query
from libs.gmailsim.router import ApiResponse, Call, route
from libs.gmailsim.state import Mailbox, Message
from libs.gmailsim.world import World

MAX_PAGE = 500
DEFAULT_PAGE = 100
MAX_BATCH_IDS = 1000
_FORMATS = ("minimal", "metadata", "full", "raw")


def message_or_404(box: Mailbox, msg_id: str) -> Message:
    msg = box.messages.get(msg_id)
    if msg is None:
        raise not_found()
    return msg


def page_args(call: Call, default: int = DEFAULT_PAGE) -> tuple[int, int]:
    """(offset, page size) from ``pageToken`` and ``maxResults``."""
    try:
        size = int(call.req.arg("maxResults", str(default)))
        offset = int(call.req.arg("pageToken", "0") or 0)
    except ValueError:
        raise bad_request("Invalid value for maxResults or pageToken.") from None
    if size < 1 or offset < 0:
        raise bad_request("Invalid value for maxResults or pageToken.")
    return offset, min(size, MAX_PAGE)


def render(msg: Message, fmt: str, headers: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": msg.id,
        "threadId": msg.thread_id,
        "labelIds": sorted(msg.label_ids),
        "snippet": msg.parsed.snippet,
        "sizeEstimate": len(msg.raw),
        "historyId": str(msg.history_id),
        "internalDate": str(msg.internal_date_ms),
    }
    if fmt == "raw":
        body["raw"] = mime.b64url(msg.raw)
    elif fmt == "metadata":
        wanted = {h.lower() for h in headers} if headers else None
        body["payload"] = mime.render_part(
            msg.parsed.root, msg.id, wanted if wanted is not None else _all(msg)
        )
    elif fmt == "full":
        body["payload"] = mime.render_part(msg.parsed.root, msg.id)
    return body


def _all(msg: Message) -> set[str]:
    return {h["name"].lower() for h in msg.parsed.root.headers}


@route("GET", "users/{u}/messages", "read", 5)
def list_messages(world: World, call: Call) -> ApiResponse:
    box, req = call.box, call.req
    include = req.arg("includeSpamTrash").lower() == "true"
    test = compile_query(box, req.arg("q"), include)
    labels = set(req.args("labelIds"))
    found = [m for m in box.messages.values() if labels <= m.label_ids and test(m)]
    # newest first, as Gmail lists
    found.sort(key=lambda m: (m.internal_date_ms, m.history_id), reverse=True)
    offset, size = page_args(call)
    page = found[offset : offset + size]
    body: dict[str, Any] = {"resultSizeEstimate": len(found)}
    if page:
        body["messages"] = [m.ref() for m in page]
    if offset + size < len(found):
        body["nextPageToken"] = str(offset + size)
    return ApiResponse(200, body)


@route("GET", "users/{u}/messages/{id}", "read", 5)
def get_message(world: World, call: Call) -> ApiResponse:
    fmt = call.req.arg("format", "full").lower()
    if fmt not in _FORMATS:
        raise bad_request(f"Invalid value at 'format' ({fmt})")
    msg = message_or_404(call.box, call.params["id"])
    return ApiResponse(200, render(msg, fmt, call.req.args("metadataHeaders")))


@route("GET", "users/{u}/messages/{id}/attachments/{aid}", "read", 5)
def get_attachment(world: World, call: Call) -> ApiResponse:
    msg = message_or_404(call.box, call.params["id"])
    key = mime.attachment_key(call.params["aid"])
    if key is None or key[0] != msg.id or key[1] not in msg.parsed.attachments:
        raise bad_request("Invalid attachment token")
    data = msg.parsed.attachments[key[1]]
    return ApiResponse(
        200, {"attachmentId": call.params["aid"], "size": len(data), "data": mime.b64url(data)}
    )


def _labels_of(box: Mailbox, ids: list[Any]) -> set[str]:
    out = set()
    for label_id in ids:
        if str(label_id) not in box.labels:
            raise bad_request(f"Invalid label: {label_id}")
        out.add(str(label_id))
    return out


def trash(box: Mailbox, msg: Message) -> None:
    box.change_labels(msg, {"TRASH"}, {"INBOX", "UNREAD", "SPAM"} & msg.label_ids)


@route("POST", "users/{u}/messages/{id}/trash", "modify", 5)
def trash_message(world: World, call: Call) -> ApiResponse:
    msg = message_or_404(call.box, call.params["id"])
    trash(call.box, msg)
    return ApiResponse(200, render(msg, "minimal"))


@route("POST", "users/{u}/messages/{id}/untrash", "modify", 5)
def untrash_message(world: World, call: Call) -> ApiResponse:
    msg = message_or_404(call.box, call.params["id"])
    # Gmail does not remember the labels trash took away; the message comes back to the inbox
    # unless it was sent mail.
    back = set() if "SENT" in msg.label_ids else {"INBOX"}
    call.box.change_labels(msg, back, {"TRASH"})
    return ApiResponse(200, render(msg, "minimal"))


@route("DELETE", "users/{u}/messages/{id}", "delete", 10)
def delete_message(world: World, call: Call) -> ApiResponse:
    call.box.delete(message_or_404(call.box, call.params["id"]))
    return ApiResponse(204)


@route("POST", "users/{u}/messages/{id}/modify", "modify", 5)
def modify_message(world: World, call: Call) -> ApiResponse:
    msg = message_or_404(call.box, call.params["id"])
    data = call.req.json()
    add = _labels_of(call.box, data.get("addLabelIds") or [])
    remove = _labels_of(call.box, data.get("removeLabelIds") or [])
    call.box.change_labels(msg, add, remove)
    return ApiResponse(200, render(msg, "minimal"))


def _batch_ids(call: Call) -> tuple[dict[str, Any], list[str]]:
    data = call.req.json()
    ids = [str(i) for i in data.get("ids") or []]
    if not ids:
        raise bad_request("ids must be specified")
    if len(ids) > MAX_BATCH_IDS:
        raise bad_request(f"Too many ids: at most {MAX_BATCH_IDS} per request")
    return data, ids


@route("POST", "users/{u}/messages/batchModify", "modify", 50)
def batch_modify(world: World, call: Call) -> ApiResponse:
    data, ids = _batch_ids(call)
    add = _labels_of(call.box, data.get("addLabelIds") or [])
    remove = _labels_of(call.box, data.get("removeLabelIds") or [])
    # Unknown ids are skipped, as Gmail does (it answers 204 regardless).
    for msg_id in ids:
        msg = call.box.messages.get(msg_id)
        if msg is not None:
            call.box.change_labels(msg, add, remove)
    return ApiResponse(204)


@route("POST", "users/{u}/messages/batchDelete", "delete", 50)
def batch_delete(world: World, call: Call) -> ApiResponse:
    _, ids = _batch_ids(call)
    for msg_id in ids:
        msg = call.box.messages.get(msg_id)
        if msg is not None:
            call.box.delete(msg)
    return ApiResponse(204)
