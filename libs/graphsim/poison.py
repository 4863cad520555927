"""Poisoned messages: every read that would serve one message fails, as real Exchange
sometimes fails a read because of one item it cannot render.

Set with ``POST /_sim/faults {"poisoned": {"<message id>": {...}}}`` (``{}`` clears it); an
entry may be a status (``500``), ``null`` (the defaults) or an object:

- ``status`` (default 500) and ``code`` (default ``ErrorInternalServerError``): the Graph
  error answered;
- ``ids_too`` (default false): also fail a listing or delta page that selects nothing but
  the id. By default such a page is served, because it renders nothing of the message:
  that is what lets a client list the ids around a message it cannot read;
- ``parts_only`` (default false): only the message's parts fail (its attachments and
  ``$value``); its properties are served, in pages and on their own.

A read fails when it is a ``GET`` of the message itself or of anything under it (its
``$value``, attachments, an attachment), or a ``GET`` whose page (``value``) would carry the
message: a delta page, a folder's or the mailbox's message list — also inside ``$batch``.
Writes (move, delete, update) are served, so the message can be moved away by id; a delta
page that reports it ``@removed`` is served too. Either id of a message (immutable or REST)
names it.

The key ``"*"`` poisons every mailbox as a whole, as when Graph fails for everything: each
message in it (also mail that arrives later; an entry of the message's own wins) and the
reads of its folders (``mailFolders``, a folder, its child folders). Id-only pages are still
served unless ``ids_too``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from libs.graphsim.errors import GraphHTTPError

if TYPE_CHECKING:
    from libs.graphsim.router import Call, GraphResponse
    from libs.graphsim.state import Mailbox

DEFAULT_STATUS = 500
DEFAULT_CODE = "ErrorInternalServerError"
#: The keys of a page item that renders nothing of the message but its id.
_ID_ONLY = frozenset({"id", "@odata.etag", "@odata.type"})
_OPTIONS = frozenset({"status", "code", "ids_too", "parts_only"})
#: The key that poisons every mailbox as a whole, and the folder reads it fails too.
EVERYTHING = "*"
_FOLDER_READS = frozenset(
    f"GET users/{{u}}/mailFolders{tail}" for tail in ("", "/{f}", "/{f}/childFolders")
)


@dataclass(frozen=True)
class Poison:
    status: int = DEFAULT_STATUS
    code: str = DEFAULT_CODE
    ids_too: bool = False
    parts_only: bool = False

    def error(self) -> GraphHTTPError:
        return GraphHTTPError(
            self.status,
            self.code,
            "The server could not read this item (poisoned by the simulator's fault knob).",
        )


def parse(value: Any) -> dict[str, dict[str, Any]]:
    """The knob's value, checked, as plain JSON data (ids → entries)."""
    if isinstance(value, list | tuple):
        value = dict.fromkeys(value)
    if not isinstance(value, Mapping):
        raise ValueError("poisoned must be an object of message ids (or a list of ids)")
    return {str(key): _entry(str(key), spec) for key, spec in value.items()}


def _entry(key: str, spec: Any) -> dict[str, Any]:
    if spec is None:
        spec = {}
    elif isinstance(spec, int) and not isinstance(spec, bool):
        spec = {"status": spec}
    if not isinstance(spec, Mapping) or set(spec) - _OPTIONS:
        raise ValueError(f"poisoned[{key!r}]: give a status, or an object of {sorted(_OPTIONS)}")
    status = spec.get("status", DEFAULT_STATUS)
    if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
        raise ValueError(f"poisoned[{key!r}].status must be an HTTP error status (400-599)")
    return {
        "status": status,
        "code": str(spec.get("code") or DEFAULT_CODE),
        "ids_too": bool(spec.get("ids_too", False)),
        "parts_only": bool(spec.get("parts_only", False)),
    }


def check(call: Call, resp: GraphResponse, poisoned: Mapping[str, Mapping[str, Any]]) -> None:
    """Raise the poisoned message's error when ``resp`` answers a read that serves it."""
    if not poisoned or call.req.method != "GET" or call.user is None:
        return
    box = call.user.mailbox
    if box is None:
        return
    if EVERYTHING in poisoned and call.template in _FOLDER_READS:
        raise Poison(**poisoned[EVERYTHING]).error()
    if "m" in call.params:
        found = _poison_of(box, call.params["m"], poisoned)
        part = not call.template.endswith("{m}")  # attachments, $value: under the message
        if found is not None and (part or not found.parts_only):
            raise found.error()
        return
    page = resp.body.get("value") if isinstance(resp.body, dict) else None
    for item in page if isinstance(page, list) else ():
        if not isinstance(item, dict) or "@removed" in item:
            continue
        found = _poison_of(box, str(item.get("id") or ""), poisoned)
        if found is None or found.parts_only:
            continue
        if found.ids_too or set(item) - _ID_ONLY:
            raise found.error()


def _poison_of(box: Mailbox, ref: str, poisoned: Mapping[str, Mapping[str, Any]]) -> Poison | None:
    msg = box.message(ref)
    if msg is None:
        return None
    spec = poisoned.get(msg.immutable_id) or poisoned.get(msg.rest_id) or poisoned.get(EVERYTHING)
    return None if spec is None else Poison(**spec)
