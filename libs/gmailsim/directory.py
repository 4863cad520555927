"""The Admin SDK Directory API's ``users.get``, as a helpdesk mailbox may call it: at
``/admin/directory/v1/users/{userKey}?viewType=domain_public`` (Google serves it on
``admin.googleapis.com``; here it is a path of the same server).

A token acting for a user of the domain with ``admin.directory.user.readonly`` (or the
read-write ``admin.directory.user``) reads any user's public profile. The simulator has no
admins, so the admin view (``viewType`` absent or ``admin_view``) is refused as it is to a
user who is not one.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from libs.gmailsim.accounts import DIRECTORY_SCOPES, PROJECT_NUMBER
from libs.gmailsim.errors import GmailHTTPError, api_disabled, insufficient_scope
from libs.gmailsim.tokens import authenticate
from libs.gmailsim.world import World

ROUTE = "GET directory/users/{userKey}"
JSON_TYPE = "application/json; charset=UTF-8"


def _not_authorized() -> GmailHTTPError:
    return GmailHTTPError(403, "forbidden", "Not Authorized to access this resource/api")


def get_user(world: World, authorization: str | None, key: str, view: str) -> dict[str, Any]:
    """The user's ``domain_public`` resource, or the error Google would answer with."""
    token = authenticate(world, authorization)
    if world.faults.directory_api_disabled:
        raise api_disabled("Admin SDK API", "admin.googleapis.com", PROJECT_NUMBER)
    if not DIRECTORY_SCOPES & token.scopes:
        raise insufficient_scope()
    if world.mailbox(token.user) is None or view != "domain_public":
        raise _not_authorized()  # no user of the domain, or the admin view of a non-admin
    world.quota.random_faults()
    person = world.person(key)
    if person is not None:
        return person.resource()
    if "@" in key and key.rsplit("@", 1)[-1].lower() not in world.domains:
        raise _not_authorized()  # another organisation's user is none of ours to read
    raise GmailHTTPError(404, "notFound", "Resource Not Found: userKey")


class DirectoryEndpoint:
    def __init__(self, world: World) -> None:
        self._world = world

    async def get(self, request: Request) -> Response:
        world = self._world
        view = request.query_params.get("viewType", "admin_view")
        auth = request.headers.get("authorization")
        status, headers = 200, {}
        with world.lock:
            try:
                body = get_user(world, auth, request.path_params["key"], view)
            except GmailHTTPError as exc:
                status, headers, body = exc.status, dict(exc.headers), exc.body()
            world.stats.record(ROUTE, status, directory=True)
        return Response(json.dumps(body), status, headers, media_type=JSON_TYPE)
