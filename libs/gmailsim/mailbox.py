"""``users/{u}/profile``, ``labels``, ``history`` and ``threads``."""

from __future__ import annotations

import bisect
from typing import Any

from libs.gmailsim.errors import GmailHTTPError, bad_request, not_found
from libs.gmailsim.messages import page_args, render
from libs.gmailsim.router import ApiResponse, Call, route
from libs.gmailsim.world import World

_HISTORY_TYPES = {"messageAdded", "messageDeleted", "labelAdded", "labelRemoved"}
#: historyTypes value → the record key it selects
_RECORD_KEY = {
    t: t.replace("message", "messages").replace("label", "labels") for t in _HISTORY_TYPES
}


@route("GET", "users/{u}/profile", "read", 1)
def profile(world: World, call: Call) -> ApiResponse:
    box = call.box
    return ApiResponse(
        200,
        {
            "emailAddress": box.address,
            "messagesTotal": len(box.messages),
            "threadsTotal": box.threads_total(),
            "historyId": str(box.history_id),
        },
    )


@route("GET", "users/{u}/labels", "labels", 1)
def list_labels(world: World, call: Call) -> ApiResponse:
    return ApiResponse(200, {"labels": [lb.resource() for lb in call.box.labels.values()]})


@route("GET", "users/{u}/labels/{id}", "labels", 1)
def get_label(world: World, call: Call) -> ApiResponse:
    label = call.box.labels.get(call.params["id"])
    if label is None:
        raise not_found()
    counted = [m for m in call.box.messages.values() if label.id in m.label_ids]
    unread = [m for m in counted if "UNREAD" in m.label_ids]
    body = label.resource() | {
        "messagesTotal": len(counted),
        "messagesUnread": len(unread),
        "threadsTotal": len({m.thread_id for m in counted}),
        "threadsUnread": len({m.thread_id for m in unread}),
    }
    return ApiResponse(200, body)


@route("POST", "users/{u}/labels", "modify", 5)
def create_label(world: World, call: Call) -> ApiResponse:
    name = str(call.req.json().get("name") or "").strip()
    if not name:
        raise bad_request("Invalid label name")
    if call.box.label(name) is not None:
        raise GmailHTTPError(409, "duplicate", "Label name exists or conflicts")
    return ApiResponse(200, call.box.add_label(name).resource())


def _history_types(call: Call) -> set[str]:
    types = set(call.req.args("historyTypes")) or set(_HISTORY_TYPES)
    unknown = types - _HISTORY_TYPES
    if unknown:
        raise bad_request(f"Invalid value at 'history_types' ({sorted(unknown)[0]})")
    return {_RECORD_KEY[t] for t in types}


def _selected(record: dict[str, Any], keys: set[str], label: str) -> dict[str, Any] | None:
    """The record with only the wanted kinds of change (and, with ``labelId``, only changes of
    messages that carried that label), or None when nothing is left."""
    kept = {}
    for key in keys & record.keys():
        items = [i for i in record[key] if not label or label in i["message"]["labelIds"]]
        if items:
            kept[key] = items
    if not kept:
        return None
    refs = [i["message"] for items in kept.values() for i in items]
    return {
        "id": record["id"],
        "messages": [{"id": r["id"], "threadId": r["threadId"]} for r in refs],
        **kept,
    }


@route("GET", "users/{u}/history", "read", 2)
def history(world: World, call: Call) -> ApiResponse:
    box = call.box
    try:
        start = int(call.req.arg("startHistoryId"))
    except ValueError:
        raise bad_request("Invalid startHistoryId") from None
    if start < box.history_floor:
        raise not_found()
    world.stats.history_read(box.address, id(call.req.token))
    keys, label = _history_types(call), call.req.arg("labelId")
    # the log is in id order: start after the cursor without reading what came before it
    first = bisect.bisect_right(box.history, start, key=lambda entry: entry[0])
    records = [r for _, r in box.history[first:]]
    chosen = [s for s in (_selected(r, keys, label) for r in records) if s is not None]
    offset, size = page_args(call)
    body: dict[str, Any] = {"historyId": str(box.history_id)}
    page = chosen[offset : offset + size]
    if page:
        body["history"] = page
    if offset + size < len(chosen):
        body["nextPageToken"] = str(offset + size)
    return ApiResponse(200, body)


@route("GET", "users/{u}/threads/{id}", "read", 10)
def get_thread(world: World, call: Call) -> ApiResponse:
    fmt = call.req.arg("format", "full").lower()
    found = [m for m in call.box.messages.values() if m.thread_id == call.params["id"]]
    if not found:
        raise not_found()
    found.sort(key=lambda m: (m.internal_date_ms, m.history_id))
    body = {
        "id": call.params["id"],
        "historyId": str(max(m.history_id for m in found)),
        "messages": [render(m, "minimal" if fmt == "raw" else fmt) for m in found],
    }
    return ApiResponse(200, body)
