"""Graph requests as plain data, and the route table the mail handlers register into.

Starlette only receives ``/v1.0/{path}``; matching happens here so that ``$batch`` items go
through exactly the same routing, permission checks and handlers as top-level requests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from libs.graphsim import poison
from libs.graphsim.directory import App, User
from libs.graphsim.errors import GraphHTTPError, bad_request, graph_error_body
from libs.graphsim.state import Mailbox
from libs.graphsim.world import World

#: Request bodies above this are refused, as Graph refuses requests over ~4 MB.
REQUEST_CAP = 4 * 1024 * 1024

_IMMUTABLE = re.compile(r'IdType\s*=\s*"?ImmutableId"?', re.I)
_MAXPAGE = re.compile(r"odata\.maxpagesize\s*=\s*(\d+)", re.I)

PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset({"Mail.Read", "Mail.ReadWrite", "Mail.ReadBasic", "Mail.ReadBasic.All"}),
    "write": frozenset({"Mail.ReadWrite"}),
    "send": frozenset({"Mail.Send"}),
    "user": frozenset(
        {"User.Read.All", "User.ReadBasic.All", "User.ReadWrite.All", "Directory.Read.All"}
    ),
}


@dataclass
class GraphRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    app: App
    #: ``https://host:port`` as the client reached it; links are built from it.
    root_url: str

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1.0"

    @property
    def immutable(self) -> bool:
        return bool(_IMMUTABLE.search(self.headers.get("prefer", "")))

    @property
    def max_page_size(self) -> int | None:
        found = _MAXPAGE.search(self.headers.get("prefer", ""))
        return int(found.group(1)) if found else None

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError:
            raise bad_request("Unable to read JSON request payload.") from None
        if not isinstance(data, dict):
            raise bad_request("The request payload must be a JSON object.")
        return data


@dataclass
class GraphResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    #: Work a handler cannot do under the world's lock (a network call): the endpoint awaits
    #: it outside the lock and answers with what it returns instead.
    deferred: Callable[[], Awaitable[GraphResponse]] | None = None


@dataclass
class Call:
    """A routed request: the handler, its path parameters and the resolved user."""

    req: GraphRequest
    params: dict[str, str]
    user: User | None
    template: str
    handler: Callable[[World, Call], GraphResponse]

    @property
    def box(self) -> Mailbox:
        assert self.user is not None and self.user.mailbox is not None
        return self.user.mailbox


Handler = Callable[[World, Call], GraphResponse]


@dataclass(frozen=True)
class Route:
    method: str
    parts: tuple[str, ...]
    permission: str
    handler: Handler
    template: str


ROUTES: list[Route] = []


def route(method: str, template: str, permission: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        parts = tuple(p if p.startswith("{") else p.lower() for p in template.split("/"))
        ROUTES.append(Route(method, parts, permission, handler, f"{method} {template}"))
        return handler

    return register


def _segments(path: str) -> list[str]:
    segs = [s for s in path.strip("/").split("/") if s]
    segs = [s[16:] if s.lower().startswith("microsoft.graph.") else s for s in segs]
    # users/{u}/mailFolders/{f}/messages/{m}/... addresses the same item as messages/{m}/...
    if (
        len(segs) >= 6
        and segs[0].lower() == "users"
        and segs[2].lower() == "mailfolders"
        and segs[4].lower() == "messages"
        and segs[5].lower() != "delta"
    ):
        segs = segs[:2] + segs[4:]
    return segs


def _match(method: str, segs: list[str]) -> tuple[Route, dict[str, str]] | None:
    allowed = False
    for r in ROUTES:
        if len(r.parts) != len(segs):
            continue
        params: dict[str, str] = {}
        for part, seg in zip(r.parts, segs, strict=True):
            if part.startswith("{"):
                params[part[1:-1]] = seg
            elif part != seg.lower():
                break
        else:
            if r.method == method:
                return r, params
            allowed = True
    if allowed:
        raise GraphHTTPError(405, "Request_BadRequest", "Specified HTTP method is not allowed.")
    return None


def resolve(world: World, req: GraphRequest) -> Call:
    """Route, user and permission checks; raises the error Graph would answer with."""
    segs = _segments(req.path)
    if segs and segs[0].lower() == "me":
        raise bad_request("/me request is only valid with delegated authentication flow.")
    found = _match(req.method, segs)
    if found is None:
        last = segs[-1] if segs else ""
        raise bad_request(f"Resource not found for the segment '{last}'.")
    r, params = found
    user = _user_of(world, r, params)
    _check_permission(r, req.app)
    _check_access_policy(r, req.app, user)
    return Call(req, params, user, r.template, r.handler)


def _user_of(world: World, r: Route, params: dict[str, str]) -> User | None:
    """The user the path names, if any; a mail route needs one that exists and has a mailbox
    (a directory route answers for a missing user itself)."""
    if "u" not in params:
        return None
    user = world.user(params["u"])
    if r.permission != "user":
        if user is None:
            raise GraphHTTPError(
                404, "ErrorInvalidUser", f"The requested user '{params['u']}' is invalid."
            )
        if user.mailbox is None:
            raise GraphHTTPError(
                404,
                "MailboxNotEnabledForRESTAPI",
                "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
            )
    return user


def _check_permission(r: Route, app: App) -> None:
    if not (PERMISSIONS[r.permission] & app.permissions):
        if r.permission == "user":
            raise GraphHTTPError(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            )
        raise GraphHTTPError(
            403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
        )


def _check_access_policy(r: Route, app: App, user: User | None) -> None:
    """An application access policy limits mailbox routes only, not the directory."""
    policy = app.access_policy
    if user is not None and r.permission != "user" and policy and policy.blocks(user.address):
        raise GraphHTTPError(
            403,
            "ErrorAccessDenied",
            "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly "
            "AccessPolicy settings.",
        )


def run(world: World, call: Call) -> GraphResponse:
    resp = call.handler(world, call)
    poison.check(call, resp, world.faults.poisoned)
    return resp


def mailbox_key(call: Call) -> str | None:
    """The mailbox a request counts against for throttling, if any."""
    if call.user is not None and call.user.mailbox is not None:
        return call.user.mailbox.address
    return None


def error_response(exc: GraphHTTPError, request_id: str, client_request_id: str) -> GraphResponse:
    body = graph_error_body(exc.code, exc.message, request_id, client_request_id)
    return GraphResponse(exc.status, body, {"request-id": request_id, **exc.headers})
