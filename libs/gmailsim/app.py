"""The Starlette application: the OAuth token endpoint, Gmail ``/gmail/v1``, the upload and
batch endpoints, the Directory API's ``users.get``, the control API.

Every API path is one endpoint that authenticates, routes (see :mod:`router`), meters quota,
applies faults and runs the handler under the world's lock. Handlers are plain synchronous
functions over in-memory state.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs, parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from libs.gmailsim import batch as batch_calls

# Importing the handler modules registers their routes.
from libs.gmailsim import mailbox, messages, send, upload  # noqa: F401
from libs.gmailsim.control import routes as control_routes
from libs.gmailsim.directory import DirectoryEndpoint
from libs.gmailsim.errors import GmailHTTPError, OAuthError
from libs.gmailsim.router import ApiRequest, ApiResponse, run
from libs.gmailsim.tokens import authenticate, issue
from libs.gmailsim.world import World
from libs.simkit.control import ControlError, control_error

JSON_TYPE = "application/json; charset=UTF-8"
#: Request bodies above this are refused before they are read further: a 35 MB message as
#: base64url JSON, with room for the envelope.
REQUEST_CAP = 48 * 1024 * 1024
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _json_response(resp: ApiResponse) -> Response:
    if resp.body is None:
        return Response(status_code=resp.status, headers=resp.headers)
    body = json.dumps(resp.body, ensure_ascii=False).encode()
    return Response(body, resp.status, resp.headers, media_type=JSON_TYPE)


def _error(exc: GmailHTTPError) -> Response:
    return _json_response(ApiResponse(exc.status, exc.body(), dict(exc.headers)))


class _Endpoints:
    def __init__(self, world: World) -> None:
        self._world = world

    async def token(self, request: Request) -> Response:
        world = self._world
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        try:
            with world.lock:
                world.stats.token_requests += 1
                body = issue(world, form, world.token_uri)
        except OAuthError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        return JSONResponse(body, headers={"Cache-Control": "no-cache, no-store, max-age=0"})

    async def _prepared(self, request: Request, path: str) -> ApiRequest:
        world = self._world
        if int(request.headers.get("content-length") or 0) > REQUEST_CAP:
            raise send.too_large()
        headers = {k.lower(): v for k, v in request.headers.items()}
        query = parse_qs(request.url.query, keep_blank_values=True)
        with world.lock:
            token = upload.session_token(world, request.method, query, headers)
            token = token or authenticate(world, headers.get("authorization"))
        if world.faults.latency_ms:
            await asyncio.sleep(world.faults.latency_ms / 1000)
        body = await request.body()
        return ApiRequest(request.method, path, query, headers, body, token, world.root_url)

    async def api(self, request: Request) -> Response:
        return await self._serve(request, request.path_params["path"])

    async def upload(self, request: Request) -> Response:
        return await self._serve(request, "upload/" + request.path_params["path"])

    async def _serve(self, request: Request, path: str) -> Response:
        world = self._world
        try:
            req = await self._prepared(request, path)
        except GmailHTTPError as exc:
            with world.lock:
                world.stats.record(f"{request.method} ?", exc.status)
            return _error(exc)
        with world.lock:
            return _json_response(run(world, req)[1])

    async def batch(self, request: Request) -> Response:
        world = self._world
        headers = {k.lower(): v for k, v in request.headers.items()}
        body = await request.body()
        try:
            with world.lock:
                answer, ctype = batch_calls.execute(world, body, headers, world.root_url)
                world.stats.record("POST batch", 200)
        except GmailHTTPError as exc:
            with world.lock:
                world.stats.record("POST batch", exc.status)
            return _error(exc)
        return Response(answer, 200, media_type=ctype)


def build_app(world: World) -> Starlette:
    endpoints = _Endpoints(world)
    routes = [
        Route("/token", endpoints.token, methods=["POST"]),
        Route("/gmail/v1/{path:path}", endpoints.api, methods=METHODS),
        Route("/upload/gmail/v1/{path:path}", endpoints.upload, methods=["POST", "PUT"]),
        Route("/batch/gmail/v1", endpoints.batch, methods=["POST"]),
        Route("/admin/directory/v1/users/{key}", DirectoryEndpoint(world).get, methods=["GET"]),
        *control_routes(world),
    ]
    return Starlette(routes=routes, exception_handlers={ControlError: control_error})
