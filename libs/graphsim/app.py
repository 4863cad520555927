"""The Starlette application: Entra endpoints, Graph ``/v1.0``, upload URLs, control API.

The Graph path is one endpoint that authenticates, routes (see :mod:`router`), applies the
mailbox limits and faults, and runs the handler under the world's lock. Handlers are plain
synchronous functions over in-memory state, so the hot path stays short.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from libs.common.text.charsets import scrub

# Importing the handler modules registers their routes.
from libs.graphsim import (  # noqa: F401
    batch,
    delta,
    folders,
    mail,
    send,
    subscriptions,
    upload,
    users,
)
from libs.graphsim.auth import authenticate, issue, openid_configuration, unknown_tenant
from libs.graphsim.control import routes as control_routes
from libs.graphsim.control_notify import routes as notify_routes
from libs.graphsim.errors import EntraError, GraphHTTPError
from libs.graphsim.router import (
    GraphRequest,
    GraphResponse,
    error_response,
    mailbox_key,
    resolve,
    run,
)
from libs.graphsim.world import World
from libs.simkit.control import ControlError, control_error

GRAPH_JSON = (
    "application/json;odata.metadata=minimal;odata.streaming=true;"
    "IEEE754Compatible=false;charset=utf-8"
)
GRAPH_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]


def _root(request: Request) -> str:
    return f"https://{request.headers.get('host', 'localhost')}"


def _to_starlette(resp: GraphResponse, request_id: str, client_request_id: str) -> Response:
    headers = {"request-id": request_id, "client-request-id": client_request_id, **resp.headers}
    if resp.body is None:
        return Response(status_code=resp.status, headers=headers)
    if isinstance(resp.body, bytes):
        return Response(resp.body, resp.status, headers, media_type=resp.content_type)
    return Response(json_bytes(resp.body), resp.status, headers, media_type=GRAPH_JSON)


def json_bytes(body: object) -> bytes:
    """UTF-8 JSON; a lone surrogate (JSON a client sent may carry one) becomes U+FFFD."""
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:
        return json.dumps(scrub(body), ensure_ascii=False, separators=(",", ":")).encode()


class _Endpoints:
    """The application's endpoints, over one world."""

    def __init__(self, world: World) -> None:
        self._world = world

    async def discovery(self, request: Request) -> Response:
        world = self._world
        tenant = request.path_params["tenant"]
        if not world.tenant_known(tenant):
            return JSONResponse(unknown_tenant(tenant).body(), status_code=400)
        return JSONResponse(openid_configuration(_root(request), tenant))

    async def token(self, request: Request) -> Response:
        world = self._world
        tenant = request.path_params["tenant"]
        # client credentials are a small urlencoded form; no multipart parser needed
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        endpoint = f"{_root(request)}/{tenant}/oauth2/v2.0/token"
        try:
            with world.lock:
                world.stats.token_requests += 1
                body = issue(world, tenant, form, endpoint)
        except EntraError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        return JSONResponse(body, headers={"Cache-Control": "no-store, no-cache"})

    async def graph(self, request: Request) -> Response:
        world = self._world
        request_id = str(uuid.uuid4())
        client_request_id = request.headers.get("client-request-id", request_id)
        template, entered = "?", None
        try:
            upload.check_cap(int(request.headers.get("content-length") or 0))
            path = request.path_params["path"]
            headers = {k.lower(): v for k, v in request.headers.items()}
            with world.lock:
                app = authenticate(world, headers.get("authorization"))
            req = GraphRequest(
                request.method, path, dict(request.query_params), headers, b"", app, _root(request)
            )
            is_batch = path.strip("/").lower() == "$batch"
            with world.lock:
                call = None if is_batch else resolve(world, req)
                template = "POST $batch" if call is None else call.template
                box = None if call is None else mailbox_key(call)
                if box is not None:
                    world.limiter.enter(app.client_id, box)
                    entered = (app.client_id, box)
            if world.faults.latency_ms:
                await asyncio.sleep(world.faults.latency_ms / 1000)
            req.body = await request.body()
            upload.check_cap(len(req.body))
            with world.lock:
                resp = batch.execute_batch(world, req) if call is None else run(world, call)
            if resp.deferred is not None:
                resp = await resp.deferred()
        except GraphHTTPError as exc:
            resp = error_response(exc, request_id, client_request_id)
        finally:
            if entered is not None:
                with world.lock:
                    world.limiter.leave(*entered)
        with world.lock:
            world.stats.record(template, resp.status)
        return _to_starlette(resp, request_id, client_request_id)

    async def upload_url(self, request: Request) -> Response:
        world = self._world
        sid = request.path_params["sid"]
        headers = {k.lower(): v for k, v in request.headers.items()}
        if request.method == "DELETE":
            with world.lock:
                return Response(status_code=upload.cancel(world, sid))
        body = await request.body()
        with world.lock:
            status, extra, payload = upload.put_chunk(world, sid, headers, body, _root(request))
        if payload is None:
            return Response(status_code=status, headers=extra)
        return JSONResponse(payload, status_code=status, headers=extra)


def build_app(world: World) -> Starlette:
    endpoints = _Endpoints(world)
    routes = [
        Route(
            "/{tenant}/v2.0/.well-known/openid-configuration", endpoints.discovery, methods=["GET"]
        ),
        Route("/{tenant}/oauth2/v2.0/token", endpoints.token, methods=["POST"]),
        Route("/v1.0/{path:path}", endpoints.graph, methods=GRAPH_METHODS),
        Route("/_upload/{sid}", endpoints.upload_url, methods=["PUT", "DELETE"]),
        *control_routes(world),
        *notify_routes(world),
    ]
    return Starlette(routes=routes, exception_handlers={ControlError: control_error})
