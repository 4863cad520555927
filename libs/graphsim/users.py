"""``GET /users/{id | userPrincipalName}`` with ``$select``."""

from __future__ import annotations

from typing import Any

from libs.graphsim.directory import User
from libs.graphsim.errors import GraphHTTPError
from libs.graphsim.router import Call, GraphResponse, route
from libs.graphsim.world import World

_DEFAULT = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)


def user_json(user: User) -> dict[str, Any]:
    given, _, surname = user.display_name.partition(" ")
    return {
        "businessPhones": [],
        "displayName": user.display_name,
        "givenName": given or None,
        "jobTitle": None,
        "department": None,
        "mail": user.address if user.mailbox is not None else None,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": "en-US",
        "surname": surname or None,
        "userPrincipalName": user.address,
        "id": user.user_id,
        "accountEnabled": True,
        "mailNickname": user.address.split("@")[0],
        "userType": "Member",
    }


@route("GET", "users/{u}", "user")
def get_user(world: World, call: Call) -> GraphResponse:
    if call.user is None:
        raise GraphHTTPError(
            404,
            "Request_ResourceNotFound",
            f"Resource '{call.params['u']}' does not exist or one of its queried "
            "reference-property objects are not present.",
        )
    full = user_json(call.user)
    raw = call.req.query.get("$select")
    names = [s.strip() for s in raw.split(",")] if raw else list(_DEFAULT)
    lower = {k.lower(): k for k in full}
    body: dict[str, Any] = {"@odata.context": f"{call.req.base_url}/$metadata#users/$entity"}
    for name in names:
        key = lower.get(name.lower())
        if key is None:
            raise GraphHTTPError(
                400,
                "Request_BadRequest",
                f"Could not find a property named '{name}' on type "
                "'Microsoft.DirectoryServices.User'.",
            )
        body[key] = full[key]
    return GraphResponse(200, body)
