"""Delta query on a folder's messages: nextLink pages, a deltaLink per round, ``@removed``
entries for mail deleted or moved out, and 410 ``SyncStateNotFound`` for a token the
mailbox no longer knows (expired through the control API, or never issued)."""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any
from urllib.parse import quote, urlencode

from libs.graphsim.errors import GraphHTTPError
from libs.graphsim.folders import folder_or_404
from libs.graphsim.query import parse_select, render
from libs.graphsim.router import Call, GraphResponse, route
from libs.graphsim.state import REMOVED, Folder, Mailbox
from libs.graphsim.world import DeltaCursor, World

DEFAULT_PAGE = 10
MAX_PAGE = 1000
#: Cursors kept per simulator; the oldest are forgotten first (their links then get a 410).
MAX_CURSORS = 20_000


def _gone(call: Call) -> GraphHTTPError:
    fresh = f"{call.req.base_url}/{call.req.path.strip('/')}"
    return GraphHTTPError(
        410,
        "SyncStateNotFound",
        "The sync state generation is not found. Please do a full sync.",
        headers={"Location": fresh},
    )


def _store(world: World, cursor: DeltaCursor) -> str:
    token = secrets.token_urlsafe(24)
    world.deltas[token] = cursor
    while len(world.deltas) > MAX_CURSORS:
        del world.deltas[next(iter(world.deltas))]
    return token


def _start_round(box: Mailbox, folder: Folder, prior: DeltaCursor | None) -> DeltaCursor:
    select = prior.select if prior else None
    if prior is None:
        items = sorted(folder.messages.values(), key=lambda m: m.sort_key)
        pending = [("upsert", m.immutable_id, m.rest_id) for m in items]
        cursor = 0
    else:
        pending = box.changes_since(folder, prior.cursor)
        cursor = prior.cursor
    round_id = secrets.token_hex(8)
    return DeltaCursor(
        box.address, folder.id, cursor, box.delta_epoch, select, pending, 0, box.seq, round_id
    )


def _entry(
    folder: Folder, item: tuple[str, str, str], select: list[str] | None, immutable: bool
) -> dict[str, Any]:
    kind, immutable_id, rest_id = item
    msg = folder.messages.get(immutable_id)
    if kind == REMOVED or msg is None:
        return {
            "@odata.type": "#microsoft.graph.message",
            "id": immutable_id if immutable else rest_id,
            "@removed": {"reason": "deleted"},
        }
    return {"@odata.type": "#microsoft.graph.message"} | render(msg, select, immutable)


def _link(call: Call, name: str, token: str) -> str:
    query = urlencode({name: token}, quote_via=quote)
    return f"{call.req.base_url}/{call.req.path.strip('/')}?{query}"


@route("GET", "users/{u}/mailFolders/{f}/messages/delta", "read")
def delta(world: World, call: Call) -> GraphResponse:
    box, q = call.box, call.req.query
    folder = folder_or_404(box, call.params["f"])
    token = q.get("$skiptoken") or q.get("$deltatoken")
    if token is None:
        state = _start_round(box, folder, None)
        state.select = q.get("$select")
    else:
        found = world.deltas.get(token)
        if found is None or found.epoch != box.delta_epoch or found.folder_id != folder.id:
            raise _gone(call)
        state = found if "$skiptoken" in q else _start_round(box, folder, found)
    select = parse_select(state.select)
    size = min(call.req.max_page_size or DEFAULT_PAGE, MAX_PAGE)
    page = state.pending[state.offset : state.offset + size]
    value = [_entry(folder, item, select, call.req.immutable) for item in page]
    body: dict[str, Any] = {
        "@odata.context": f"{call.req.base_url}/$metadata#Collection(message)",
        "value": value,
    }
    end = state.offset + size
    if end < len(state.pending):
        nxt = dataclasses.replace(state, offset=end)  # the same round, one page on
        body["@odata.nextLink"] = _link(call, "$skiptoken", _store(world, nxt))
    elif token is not None and "$deltatoken" in q and not state.pending:
        body["@odata.deltaLink"] = _link(call, "$deltatoken", token)  # nothing new: same link
    else:
        done = DeltaCursor(box.address, folder.id, state.round_end, state.epoch, state.select)
        body["@odata.deltaLink"] = _link(call, "$deltatoken", _store(world, done))
    last = "@odata.deltaLink" in body
    world.stats.round_page(box.address, state.round_id, first=state.offset == 0, last=last)
    headers = {"Preference-Applied": f"odata.maxpagesize={size}"} if call.req.max_page_size else {}
    return GraphResponse(200, body, headers)
