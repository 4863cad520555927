"""Gmail API requests as plain data, and the route table the handlers register into.

Starlette only receives ``/gmail/v1/{path}``; matching happens here so that the calls of a
batch go through the same routing, scope checks, quota and handlers as top-level requests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from libs.gmailsim.accounts import (
    FULL_MAIL,
    MODIFY,
    PROJECT_NUMBER,
    SCOPE_PREFIX,
    SEND,
    SETTINGS_BASIC,
    SETTINGS_SHARING,
    AccessToken,
)
from libs.gmailsim.errors import (
    GmailHTTPError,
    api_disabled,
    bad_request,
    insufficient_scope,
    mail_service_off,
    not_found,
)
from libs.gmailsim.state import Mailbox
from libs.gmailsim.tokens import delegation_denied
from libs.gmailsim.world import World

_READONLY = SCOPE_PREFIX + "gmail.readonly"
#: Scope classes of routes → the scopes any one of which allows them.
SCOPES: dict[str, frozenset[str]] = {
    "read": frozenset({FULL_MAIL, MODIFY, _READONLY}),
    "labels": frozenset({FULL_MAIL, MODIFY, _READONLY, SCOPE_PREFIX + "gmail.labels"}),
    "modify": frozenset({FULL_MAIL, MODIFY}),
    # permanent deletion needs full mail access; gmail.modify is not enough
    "delete": frozenset({FULL_MAIL}),
    "send": frozenset({FULL_MAIL, MODIFY, SEND, SCOPE_PREFIX + "gmail.compose"}),
    "settings": frozenset({FULL_MAIL, MODIFY, _READONLY, SETTINGS_BASIC, SETTINGS_SHARING}),
    "sharing": frozenset({SETTINGS_SHARING}),
}


@dataclass
class ApiRequest:
    method: str
    path: str
    #: Query parameters; repeated ones (labelIds, metadataHeaders) keep every value.
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    token: AccessToken
    root_url: str

    def arg(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        return [v for value in self.query.get(name, []) for v in value.split(",") if v]

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError:
            raise bad_request("Invalid JSON payload received.") from None
        if not isinstance(data, dict):
            raise bad_request("Invalid JSON payload received.")
        return data


@dataclass
class ApiResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    req: ApiRequest
    params: dict[str, str]
    box: Mailbox
    template: str
    handler: Callable[[World, Call], ApiResponse]


Handler = Callable[[World, Call], ApiResponse]


@dataclass(frozen=True)
class Route:
    method: str
    parts: tuple[str, ...]
    scope: str
    units: int
    handler: Handler
    template: str


ROUTES: list[Route] = []


def route(method: str, template: str, scope: str, units: int) -> Callable[[Handler], Handler]:
    """Register a handler for ``users/{u}/...``; ``units`` is Gmail's quota cost of the method."""

    def register(handler: Handler) -> Handler:
        parts = tuple(template.split("/"))
        ROUTES.append(Route(method, parts, scope, units, handler, f"{method} {template}"))
        return handler

    return register


def _match(method: str, segs: list[str]) -> tuple[Route, dict[str, str]]:
    """Literal segments win over parameters (``messages/batchModify`` over ``messages/{id}``)."""
    best: tuple[int, Route, dict[str, str]] | None = None
    for r in ROUTES:
        if r.method != method or len(r.parts) != len(segs):
            continue
        params: dict[str, str] = {}
        literal = 0
        for part, seg in zip(r.parts, segs, strict=True):
            if part.startswith("{"):
                params[part[1:-1]] = seg
            elif part != seg:
                break
            else:
                literal += 1
        else:
            if best is None or literal > best[0]:
                best = (literal, r, params)
    if best is None:
        raise not_found()
    return best[1], best[2]


def resolve(world: World, req: ApiRequest) -> tuple[Route, dict[str, str]]:
    """The route of a request and its path parameters; 404 in Gmail's shape if none."""
    segs = [s for s in req.path.strip("/").split("/") if s]
    return _match(req.method, segs)


def _checked(world: World, req: ApiRequest, r: Route, params: dict[str, str]) -> Call:
    """User and scope checks; raises the error Gmail would answer with."""
    user = params.get("u", "me").lower()
    if user != "me" and user != req.token.user:
        raise delegation_denied(params.get("u", ""))
    if not SCOPES[r.scope] & req.token.scopes:
        raise insufficient_scope()
    box = world.mailbox(req.token.user)
    if box is None:
        raise GmailHTTPError(400, "failedPrecondition", "Precondition check failed.")
    if not box.gmail_enabled:
        raise mail_service_off()
    return Call(req, params, box, r.template, r.handler)


def run(world: World, req: ApiRequest, *, batch_item: bool = False) -> tuple[str, ApiResponse]:
    """Resolve, check, meter and handle one call; errors become Gmail's error response."""
    template = f"{req.method} ?"
    try:
        if world.faults.gmail_api_disabled:
            raise api_disabled("Gmail API", "gmail.googleapis.com", PROJECT_NUMBER)
        r, params = resolve(world, req)
        template = r.template
        call = _checked(world, req, r, params)
        world.quota.spend(req.token.user, r.units)
        resp = call.handler(world, call)
    except GmailHTTPError as exc:
        resp = ApiResponse(exc.status, exc.body(), dict(exc.headers))
    world.stats.record(template, resp.status, batch_item=batch_item)
    return template, resp
