"""The control API under ``/_sim`` (no auth): seed mail, inspect mailboxes and sent mail,
grant send-as, register apps and users, expire an app's secret, set its application access
policy, expire delta tokens, set faults, read statistics and each mailbox's timeline."""

from __future__ import annotations

import datetime as dt
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from libs.graphsim.directory import AccessPolicy, App
from libs.graphsim.state import Mailbox
from libs.graphsim.watch import prune
from libs.graphsim.world import World
from libs.simkit.control import error_json, json_object


def routes(world: World) -> list[Route]:
    def box_or_none(request: Request) -> Mailbox | None:
        return world.mailbox(request.path_params["address"])

    async def seed(request: Request) -> Response:
        raw = await request.body()
        # Any bytes are a message, none included: Exchange converts what it receives (an
        # empty DATA is stored as an empty message) instead of refusing it.
        received = request.query_params.get("received")
        try:
            when = dt.datetime.fromisoformat(received.replace("Z", "+00:00")) if received else None
        except ValueError:
            return error_json(400, "received must be an ISO 8601 date-time")
        with world.lock:
            box = box_or_none(request)
            if box is None:
                return error_json(404, "no such mailbox")
            folder = box.destination(request.query_params.get("folder", "inbox"))
            msg = world.seed(box, raw, folder, when)
            body = {"id": msg.immutable_id, "restId": msg.rest_id, "folderId": folder.id}
        return JSONResponse(body, status_code=201)

    async def mailbox(request: Request) -> Response:
        with world.lock:
            box = box_or_none(request)
            if box is None:
                return error_json(404, "no such mailbox")
            return JSONResponse({"folders": box.counts(), "sent": len(box.sent)})

    async def sent(request: Request) -> Response:
        with world.lock:
            box = box_or_none(request)
            return error_json(404, "no such mailbox") if box is None else JSONResponse(box.sent)

    async def folder_messages(request: Request) -> Response:
        with world.lock:
            box = box_or_none(request)
            folder = box.folder(request.path_params["folder"]) if box else None
            if box is not None and folder is None:
                folder = box.by_display_name(request.path_params["folder"])
            if folder is None:
                return error_json(404, "no such mailbox or folder")
            items = sorted(folder.messages.values(), key=lambda m: m.sort_key)
            return JSONResponse(
                [
                    {
                        "id": m.immutable_id,
                        "restId": m.rest_id,
                        "subject": m.fields["subject"],
                        "internetMessageId": m.fields["internetMessageId"],
                        "receivedDateTime": m.fields["receivedDateTime"],
                    }
                    for m in items
                ]
            )

    async def events(request: Request) -> Response:
        with world.lock:
            box = box_or_none(request)
            if box is None:
                return error_json(404, "no such mailbox")
            return JSONResponse(
                [{"at": at, "kind": kind, "folder": f, "id": i} for at, kind, f, i in box.events]
            )

    async def send_as(request: Request) -> Response:
        allowed = (await json_object(request)).get("allowed") or []
        with world.lock:
            box = box_or_none(request)
            if box is None:
                return error_json(404, "no such mailbox")
            box.send_as = {str(a).lower() for a in allowed}
            return JSONResponse({"allowed": sorted(box.send_as)})

    async def expire_delta(request: Request) -> Response:
        with world.lock:
            box = box_or_none(request)
            if box is None:
                return error_json(404, "no such mailbox")
            world.expire_deltas(box)
        return Response(status_code=204)

    async def faults(request: Request) -> Response:
        with world.lock:
            if request.method == "POST":
                data = await json_object(request)
                try:
                    world.faults.update(data, world.rng)
                except (TypeError, ValueError) as exc:
                    return error_json(400, str(exc))
                if "notify_seed" in data:
                    world.notifier.reseed(world.faults.notify_seed)
            return JSONResponse(world.faults.as_dict())

    async def stats(request: Request) -> Response:
        with world.lock:
            prune(world.subscriptions)
            body = world.stats.as_dict()
            body["notifications"]["subscriptions_alive"] = len(world.subscriptions)
            return JSONResponse(body)

    async def reset(request: Request) -> Response:
        world.reset()
        return Response(status_code=204)

    async def apps(request: Request) -> Response:
        data = await json_object(request)
        if not data.get("tenant_id") or not data.get("client_id"):
            return error_json(400, "tenant_id and client_id are required")
        if not data.get("client_secret") and not data.get("certificate_pem"):
            return error_json(400, "give client_secret or certificate_pem")
        app = App(
            str(data["tenant_id"]),
            str(data["client_id"]),
            data.get("client_secret"),
            data.get("certificate_pem"),
        )
        if data.get("permissions") is not None:
            app.permissions = frozenset(str(p) for p in data["permissions"])
        with world.lock:
            world.register_app(app)
        return JSONResponse(
            {
                "tenant_id": app.tenant_id,
                "client_id": app.client_id,
                "permissions": sorted(app.permissions),
            },
            status_code=201,
        )

    def app_or_none(request: Request) -> App | None:
        return world.app(request.path_params["tenant"], request.path_params["client"])

    async def expire_secret(request: Request) -> Response:
        with world.lock:
            app = app_or_none(request)
            if app is None:
                return error_json(404, "no such app")
            app.secret_expires_at = time.time()
        return Response(status_code=204)

    async def access_policy(request: Request) -> Response:
        data = await json_object(request) if request.method == "PUT" else {}
        right = data.get("access_right", "RestrictAccess")
        if request.method == "PUT" and right not in ("RestrictAccess", "DenyAccess"):
            return error_json(400, "access_right must be RestrictAccess or DenyAccess")
        with world.lock:
            app = app_or_none(request)
            if app is None:
                return error_json(404, "no such app")
            if request.method == "DELETE":
                app.access_policy = None
                return Response(status_code=204)
            mailboxes = frozenset(str(m).lower() for m in data.get("mailboxes") or [])
            app.access_policy = AccessPolicy(right, mailboxes)
        return JSONResponse({"access_right": right, "mailboxes": sorted(mailboxes)})

    async def users(request: Request) -> Response:
        data = await json_object(request)
        if not data.get("address"):
            return error_json(400, "address is required")
        with world.lock:
            user = world.add_user(
                str(data["address"]), data.get("display_name"), bool(data.get("mailbox", True))
            )
        return JSONResponse({"id": user.user_id, "address": user.address}, status_code=201)

    async def info(request: Request) -> Response:
        with world.lock:
            boxes = sorted({u.address for u in world.users.values() if u.mailbox is not None})
        return JSONResponse({"mailboxes": boxes})

    base = "/_sim/mailboxes/{address}"
    return [
        Route("/_sim", info, methods=["GET"]),
        Route(f"{base}/messages", seed, methods=["POST"]),
        Route(base, mailbox, methods=["GET"]),
        Route(f"{base}/sent", sent, methods=["GET"]),
        Route(f"{base}/events", events, methods=["GET"]),
        Route(f"{base}/folders/{{folder}}/messages", folder_messages, methods=["GET"]),
        Route(f"{base}/send-as", send_as, methods=["PUT"]),
        Route(f"{base}/expire-delta", expire_delta, methods=["POST"]),
        Route("/_sim/faults", faults, methods=["GET", "POST"]),
        Route("/_sim/stats", stats, methods=["GET"]),
        Route("/_sim/reset", reset, methods=["POST"]),
        Route("/_sim/apps", apps, methods=["POST"]),
        Route("/_sim/apps/{tenant}/{client}/expire-secret", expire_secret, methods=["POST"]),
        Route(
            "/_sim/apps/{tenant}/{client}/access-policy", access_policy, methods=["PUT", "DELETE"]
        ),
        Route("/_sim/users", users, methods=["POST"]),
    ]
