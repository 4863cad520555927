"""The control API's part for change notifications: list every subscription, fire a lifecycle
event, expire a subscription now. Faults and counts are in ``/_sim/faults`` and
``/_sim/stats`` (:mod:`control`)."""

from __future__ import annotations

import datetime as dt
import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from libs.graphsim.watch import LIFECYCLE_EVENTS, Subscription, as_json, prune
from libs.graphsim.world import World
from libs.simkit.control import error_json


def _control_json(sub: Subscription) -> dict[str, object]:
    return {
        **as_json(sub),
        "userId": sub.user_id,
        "folderId": sub.folder_id,
        "needsReauthorization": sub.needs_reauthorization,
    }


def _fire(world: World, sub: Subscription, event: str) -> bool:
    """What the event means for the subscription, then the notification (if it has a
    lifecycle URL): a removed subscription is gone, as Graph removed it."""
    if event == "reauthorizationRequired":
        sub.needs_reauthorization = True
    if event == "subscriptionRemoved":
        del world.subscriptions[sub.id]
    return world.notifier.lifecycle(sub, event)


def routes(world: World) -> list[Route]:
    def find(request: Request) -> Subscription | None:
        prune(world.subscriptions)
        return world.subscriptions.get(request.path_params["id"])

    async def listing(request: Request) -> Response:
        with world.lock:
            prune(world.subscriptions)
            return JSONResponse([_control_json(s) for s in world.subscriptions.values()])

    async def lifecycle(request: Request) -> Response:
        try:
            event = json.loads(await request.body() or b"{}").get("event")
        except (ValueError, AttributeError):
            event = None
        if event not in LIFECYCLE_EVENTS:
            return error_json(400, f"event must be one of {', '.join(LIFECYCLE_EVENTS)}")
        with world.lock:
            sub = find(request)
            if sub is None:
                return error_json(404, "no such subscription")
            sent = _fire(world, sub, event)
        return JSONResponse({"sent": sent}, status_code=202)

    async def expire(request: Request) -> Response:
        with world.lock:
            sub = find(request)
            if sub is None:
                return error_json(404, "no such subscription")
            sub.expires = dt.datetime.now(dt.UTC)
            prune(world.subscriptions)
        return Response(status_code=204)

    return [
        Route("/_sim/subscriptions", listing, methods=["GET"]),
        Route("/_sim/subscriptions/{id}/lifecycle", lifecycle, methods=["POST"]),
        Route("/_sim/subscriptions/{id}/expire", expire, methods=["POST"]),
    ]
