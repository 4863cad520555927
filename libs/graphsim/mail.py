"""Message endpoints: list, get, ``$value``, attachments, update, delete, move, copy."""

from __future__ import annotations

import base64
import re
from typing import Any

from libs.graphsim import mime
from libs.graphsim.errors import GraphHTTPError, bad_request, not_found
from libs.graphsim.folders import folder_or_404
from libs.graphsim.query import (
    check_efficient,
    matches,
    ordered,
    paged,
    parse_filter,
    parse_orderby,
    parse_select,
    render,
)
from libs.graphsim.router import Call, GraphResponse, route
from libs.graphsim.state import HIDDEN, Message
from libs.graphsim.world import World

_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+$")
_PATCHABLE = {"isRead", "categories", "flag", "importance", "inferenceClassification"}
_DRAFT_PATCHABLE = {"subject", "body", "toRecipients", "ccRecipients", "bccRecipients", "replyTo"}


def find(call: Call, *, deleted_ok: bool = False) -> Message:
    """The addressed message. Soft-deleted mail is gone for every operation but a purge."""
    msg = call.box.message(call.params["m"])
    if msg is None or (msg.folder.well_known == "recoverableitemsdeletions" and not deleted_ok):
        raise not_found()
    return msg


def _list(call: Call, messages: list[Message], context: str) -> GraphResponse:
    q = call.req.query
    select = parse_select(q.get("$select"))
    filters = parse_filter(q.get("$filter"))
    orderby = parse_orderby(q.get("$orderby"))
    check_efficient(filters, orderby)
    if filters:
        messages = [m for m in messages if matches(m, filters)]
    immutable = call.req.immutable
    body = paged(
        ordered(messages, orderby),
        lambda m: render(m, select, immutable),
        q,
        call.req.base_url,
        call.req.path,
        context,
    )
    return GraphResponse(200, body)


def _context(call: Call, tail: str) -> str:
    return f"{call.req.base_url}/$metadata#users('{call.box.address}')/{tail}"


@route("GET", "users/{u}/messages", "read")
def list_all(world: World, call: Call) -> GraphResponse:
    messages = [
        m
        for f in call.box.folders.values()
        if f.well_known not in HIDDEN
        for m in f.messages.values()
    ]
    return _list(call, messages, _context(call, "messages"))


@route("GET", "users/{u}/mailFolders/{f}/messages", "read")
def list_folder(world: World, call: Call) -> GraphResponse:
    folder = folder_or_404(call.box, call.params["f"])
    context = _context(call, f"mailFolders('{call.params['f']}')/messages")
    return _list(call, list(folder.messages.values()), context)


@route("GET", "users/{u}/messages/{m}", "read")
def get_message(world: World, call: Call) -> GraphResponse:
    select = parse_select(call.req.query.get("$select"))
    body = render(find(call), select, call.req.immutable)
    body["@odata.context"] = _context(call, "messages/$entity")
    return GraphResponse(200, body)


@route("GET", "users/{u}/messages/{m}/$value", "read")
def get_mime(world: World, call: Call) -> GraphResponse:
    msg = find(call)
    raw = msg.mime or bytes(
        mime.build(
            msg.fields | {"attachments": msg.attachments},
            call.box.address,
            msg.fields["internetMessageId"],
        )
    )
    return GraphResponse(200, raw, content_type="message/rfc822")


def _attachment_json(att: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
    if not select:
        return dict(att)
    return {"@odata.type": att["@odata.type"], "id": att["id"]} | {k: att.get(k) for k in select}


@route("GET", "users/{u}/messages/{m}/attachments", "read")
def list_attachments(world: World, call: Call) -> GraphResponse:
    msg = find(call)
    raw = call.req.query.get("$select")
    select = [s.strip() for s in raw.split(",")] if raw else None
    value = [_attachment_json(a, select) for a in msg.attachments]
    return GraphResponse(200, {"@odata.context": _context(call, "attachments"), "value": value})


def _attachment(call: Call) -> dict[str, Any]:
    for att in find(call).attachments:
        if att["id"] == call.params["a"]:
            return att
    raise not_found("The attachment could not be found.")


@route("GET", "users/{u}/messages/{m}/attachments/{a}", "read")
def get_attachment(world: World, call: Call) -> GraphResponse:
    return GraphResponse(200, dict(_attachment(call)))


@route("GET", "users/{u}/messages/{m}/attachments/{a}/$value", "read")
def get_attachment_bytes(world: World, call: Call) -> GraphResponse:
    att = _attachment(call)
    content_type = str(att.get("contentType") or "")
    if not _CONTENT_TYPE.match(content_type):  # it becomes a response header
        content_type = "application/octet-stream"
    return GraphResponse(200, base64.b64decode(att["contentBytes"]), content_type=content_type)


@route("PATCH", "users/{u}/messages/{m}", "write")
def update_message(world: World, call: Call) -> GraphResponse:
    msg = find(call)
    changes = call.req.json()
    allowed = _PATCHABLE | (_DRAFT_PATCHABLE if msg.fields.get("isDraft") else set())
    for key, value in changes.items():
        if key not in allowed:
            raise bad_request(
                f"Property '{key}' cannot be updated.", "ErrorInvalidPropertyUpdateSentMessage"
            )
        msg.fields[key] = value
    call.box.touch(msg)
    return GraphResponse(200, render(msg, None, call.req.immutable))


@route("DELETE", "users/{u}/messages/{m}", "write")
def delete_message(world: World, call: Call) -> GraphResponse:
    msg = find(call)
    deletions = call.box.folder("recoverableitemsdeletions")
    assert deletions is not None
    call.box.move(msg, deletions)
    return GraphResponse(204)


@route("POST", "users/{u}/messages/{m}/permanentDelete", "write")
def purge_message(world: World, call: Call) -> GraphResponse:
    call.box.purge(find(call, deleted_ok=True))
    return GraphResponse(204)


def _destination(call: Call) -> str:
    # Graph binds action parameters case-insensitively ("DestinationId" in the OpenAPI).
    data = {k.lower(): v for k, v in call.req.json().items()}
    dest = data.get("destinationid")
    if not isinstance(dest, str) or not dest.strip():
        raise bad_request("The destinationId parameter is required.", "ErrorInvalidIdMalformed")
    return dest.strip()


@route("POST", "users/{u}/messages/{m}/move", "write")
def move_message(world: World, call: Call) -> GraphResponse:
    msg = find(call)
    moved = call.box.move(msg, call.box.destination(_destination(call)))
    return GraphResponse(201, render(moved, None, call.req.immutable))


@route("POST", "users/{u}/messages/{m}/copy", "write")
def copy_message(world: World, call: Call) -> GraphResponse:
    msg = find(call)
    dest = call.box.destination(_destination(call))
    if dest.well_known == "recoverableitemsdeletions":
        raise GraphHTTPError(
            400, "ErrorCannotCopyToFolder", "Items cannot be copied to this folder."
        )
    return GraphResponse(201, render(call.box.copy(msg, dest), None, call.req.immutable))
