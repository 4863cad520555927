"""The batch endpoint ``POST /batch/gmail/v1``: a multipart/mixed body of ``application/http``
parts, each a whole HTTP request (``GET /gmail/v1/users/me/messages/ID HTTP/1.1`` …), answered
as a multipart/mixed of ``application/http`` responses in the same order, each with
``Content-ID: response-<the part's Content-ID>``.

As Google does: at most 100 calls (more is a 400); more than 50 are served but counted in the
statistics (``large_batches``); outer headers other than ``Content-*`` apply to every part
unless the part sets them; every part is metered, routed and faulted on its own.
"""

from __future__ import annotations

import json
import secrets
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from libs.gmailsim import multipart
from libs.gmailsim.errors import GmailHTTPError, bad_request
from libs.gmailsim.router import ApiRequest, ApiResponse, run
from libs.gmailsim.tokens import authenticate
from libs.gmailsim.world import World

MAX_CALLS = 100
DISCOURAGED_OVER = 50
API_PREFIX = "/gmail/v1/"


def _request(world: World, content: bytes, outer: dict[str, str], root_url: str) -> ApiRequest:
    head, body = multipart.split_head(content)
    request_line, _, header_block = head.partition(b"\n")
    try:
        method, target, *_ = request_line.decode("latin-1").split()
    except ValueError:
        raise bad_request("Failed to parse batch request") from None
    headers = {k: v for k, v in outer.items() if not k.startswith("content-")}
    headers.update(multipart.parse_headers(header_block))
    url = urlsplit(target)
    if not url.path.startswith(API_PREFIX):
        raise bad_request(f"Invalid path in batch request: {url.path}")
    token = authenticate(world, headers.get("authorization"))
    return ApiRequest(
        method.upper(),
        url.path[len(API_PREFIX) :],
        parse_qs(url.query),
        headers,
        body,
        token,
        root_url,
    )


def _answer(world: World, content: bytes, outer: dict[str, str], root_url: str) -> ApiResponse:
    try:
        req = _request(world, content, outer, root_url)
    except GmailHTTPError as exc:
        return ApiResponse(exc.status, exc.body(), dict(exc.headers))
    return run(world, req, batch_item=True)[1]


def _http(resp: ApiResponse) -> bytes:
    reason = HTTPStatus(resp.status).phrase if resp.status in HTTPStatus._value2member_map_ else ""
    lines = [f"HTTP/1.1 {resp.status} {reason}"]
    lines += [f"{k}: {v}" for k, v in resp.headers.items()]
    body = b""
    if resp.body is not None:
        body = json.dumps(resp.body).encode()
        lines.append("Content-Type: application/json; charset=UTF-8")
    return "\r\n".join(lines).encode() + b"\r\n\r\n" + body


def execute(world: World, body: bytes, outer: dict[str, str], root_url: str) -> tuple[bytes, str]:
    """The multipart answer and its Content-Type; raises a 400 for a malformed batch."""
    boundary = multipart.boundary_of(outer.get("content-type", ""))
    if not boundary or not outer.get("content-type", "").lower().startswith("multipart/"):
        raise bad_request("Batch requests must be multipart/mixed.")
    parts = multipart.parts(body, boundary)
    if not parts:
        raise bad_request("Empty batch request.")
    if len(parts) > MAX_CALLS:
        raise bad_request(f"Too many requests in batch; at most {MAX_CALLS} are allowed.")
    if len(parts) > DISCOURAGED_OVER:
        world.stats.large_batches += 1
    out_boundary = "batch_" + secrets.token_hex(12)
    chunks = []
    for headers, content in parts:
        resp = _answer(world, content, outer, root_url)
        content_id = headers.get("content-id", "").strip("<>")
        head = "Content-Type: application/http\r\n"
        if content_id:
            head += f"Content-ID: <response-{content_id}>\r\n"
        chunks.append(f"--{out_boundary}\r\n{head}\r\n".encode() + _http(resp) + b"\r\n")
    answer = b"".join(chunks) + f"--{out_boundary}--\r\n".encode()
    return answer, f"multipart/mixed; boundary={out_boundary}"
