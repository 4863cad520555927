"""``/subscriptions``: create (after the validation handshake), list, read, renew, delete and
reauthorize change-notification subscriptions on mail. The data and the notification shapes
are in :mod:`watch`, the delivery in :mod:`notify`."""

from __future__ import annotations

import uuid
from typing import Any

from libs.graphsim import validation
from libs.graphsim.errors import GraphHTTPError
from libs.graphsim.router import Call, GraphResponse, route
from libs.graphsim.watch import (
    MAX_CLIENT_STATE,
    Subscription,
    as_json,
    invalid,
    parse_change_types,
    parse_expiration,
    parse_resource,
    prune,
)
from libs.graphsim.world import World

#: Graph's limit of subscriptions per mailbox.
MAX_PER_MAILBOX = 1000


def _not_found() -> GraphHTTPError:
    return GraphHTTPError(404, "ResourceNotFound", "The object was not found.")


def _entity(call: Call, sub: Subscription) -> dict[str, Any]:
    context = f"{call.req.base_url}/$metadata#subscriptions/$entity"
    return {"@odata.context": context, **as_json(sub)}


def _own(world: World, call: Call) -> Subscription:
    prune(world.subscriptions)
    sub = world.subscriptions.get(call.params["id"])
    if sub is None or sub.application_id != call.req.app.client_id:
        raise _not_found()
    return sub


def _expiration(world: World, value: Any) -> Any:
    faults = world.faults
    return parse_expiration(value, faults.subscription_max_minutes, faults.subscription_clamp)


def _watched(world: World, call: Call, resource: str) -> tuple[str, str | None]:
    """(user id, folder id or ``None``) of the resource, checked like a read of it."""
    user_ref, folder_ref = parse_resource(resource)
    user = world.user(user_ref)
    if user is None or user.mailbox is None:
        raise GraphHTTPError(
            404, "ErrorInvalidUser", f"The requested user '{user_ref}' is invalid."
        )
    policy = call.req.app.access_policy
    if policy is not None and policy.blocks(user.address):
        raise GraphHTTPError(
            403,
            "ErrorAccessDenied",
            "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly "
            "AccessPolicy settings.",
        )
    if folder_ref is None:
        return user.user_id, None
    folder = user.mailbox.folder(folder_ref)
    if folder is None:
        raise GraphHTTPError(404, "ErrorItemNotFound", "The specified folder could not be found.")
    return user.user_id, folder.id


def _build(world: World, call: Call, body: dict[str, Any]) -> Subscription:
    for key in ("changeType", "notificationUrl", "resource", "expirationDateTime"):
        if not body.get(key):
            raise invalid(f"The property '{key}' is required.")
    allow_http = world.allow_http_notifications
    url = validation.check_url(body["notificationUrl"], "notificationUrl", allow_http)
    lifecycle = body.get("lifecycleNotificationUrl")
    if lifecycle:
        lifecycle = validation.check_url(lifecycle, "lifecycleNotificationUrl", allow_http)
    state = body.get("clientState")
    if state is not None and len(str(state)) > MAX_CLIENT_STATE:
        raise invalid(f"clientState must be at most {MAX_CLIENT_STATE} characters.")
    user_id, folder_id = _watched(world, call, str(body["resource"]))
    if sum(s.user_id == user_id for s in world.subscriptions.values()) >= MAX_PER_MAILBOX:
        raise GraphHTTPError(403, "ExtensionError", "The mailbox has too many subscriptions.")
    app = call.req.app
    return Subscription(
        id=str(uuid.uuid4()),
        tenant_id=app.tenant_id,
        application_id=app.client_id,
        creator_id=app.object_id,
        user_id=user_id,
        folder_id=folder_id,
        resource=str(body["resource"]),
        change_types=parse_change_types(body["changeType"]),
        change_type=str(body["changeType"]),
        notification_url=url,
        lifecycle_url=lifecycle or None,
        expires=_expiration(world, body["expirationDateTime"]),
        client_state=None if state is None else str(state),
        tls_version=body.get("latestSupportedTlsVersion"),
        immutable=call.req.immutable,
    )


@route("POST", "subscriptions", "read")
def create(world: World, call: Call) -> GraphResponse:
    prune(world.subscriptions)
    sub = _build(world, call, call.req.json())
    timeout_s = world.faults.validation_timeout_s
    urls = [sub.notification_url] + ([sub.lifecycle_url] if sub.lifecycle_url else [])

    async def validate_then_store() -> GraphResponse:
        # Outside the world's lock: the endpoint may take seconds, or be mailpipe calling back.
        for url in urls:
            ok = await validation.handshake(url, timeout_s)
            with world.lock:
                world.stats.notifications["validations"] += 1
                if not ok:
                    world.stats.notifications["validation_failures"] += 1
            if not ok:
                raise validation.failed()
        with world.lock:
            world.subscriptions[sub.id] = sub
            return GraphResponse(201, _entity(call, sub))

    return GraphResponse(0, deferred=validate_then_store)


@route("GET", "subscriptions", "read")
def list_own(world: World, call: Call) -> GraphResponse:
    prune(world.subscriptions)
    own = [s for s in world.subscriptions.values() if s.application_id == call.req.app.client_id]
    return GraphResponse(
        200,
        {
            "@odata.context": f"{call.req.base_url}/$metadata#subscriptions",
            "value": [as_json(s) for s in own],
        },
    )


@route("GET", "subscriptions/{id}", "read")
def read(world: World, call: Call) -> GraphResponse:
    return GraphResponse(200, _entity(call, _own(world, call)))


@route("PATCH", "subscriptions/{id}", "read")
def renew(world: World, call: Call) -> GraphResponse:
    sub = _own(world, call)
    body = call.req.json()
    if "expirationDateTime" not in body:
        raise invalid("The simulator renews subscriptions only: send expirationDateTime.")
    sub.expires = _expiration(world, body["expirationDateTime"])
    sub.needs_reauthorization = False  # a renewal reauthorizes, as in Graph
    return GraphResponse(200, _entity(call, sub))


@route("DELETE", "subscriptions/{id}", "read")
def delete(world: World, call: Call) -> GraphResponse:
    sub = _own(world, call)
    del world.subscriptions[sub.id]
    return GraphResponse(204)


@route("POST", "subscriptions/{id}/reauthorize", "read")
def reauthorize(world: World, call: Call) -> GraphResponse:
    _own(world, call).needs_reauthorization = False
    return GraphResponse(204)
