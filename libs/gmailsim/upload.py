"""The upload endpoint ``/upload/gmail/v1/users/{u}/messages/send`` with ``uploadType``
``media`` (the body is the RFC 822), ``multipart`` (multipart/related: JSON metadata such as
``threadId``, then the RFC 822) and ``resumable`` (a POST with the metadata opens a session
whose URI comes back in ``Location``; PUTs to it carry the bytes, in one go or in chunks with
``Content-Range``; 308 until the last byte, then the sent message; the session URI needs no
Authorization header, as at Google). Up to 35 MB, as Gmail.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any

from libs.gmailsim import multipart
from libs.gmailsim.accounts import SEND, AccessToken
from libs.gmailsim.errors import bad_request, not_found
from libs.gmailsim.router import ApiResponse, Call, route
from libs.gmailsim.send import MAX_MESSAGE_BYTES, send_raw, too_large
from libs.gmailsim.world import UploadSession, World

_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_STATUS_QUERY = re.compile(r"bytes \*/(\d+|\*)")


def _sent(world: World, call: Call, raw: bytes, thread_id: str | None) -> ApiResponse:
    msg = send_raw(world, call.box, raw, thread_id)
    return ApiResponse(200, {"id": msg.id, "threadId": msg.thread_id, "labelIds": ["SENT"]})


def _multipart(call: Call) -> tuple[dict[str, Any], bytes]:
    boundary = multipart.boundary_of(call.req.headers.get("content-type", ""))
    found = multipart.parts(call.req.body, boundary) if boundary else []
    if len(found) != 2:
        raise bad_request("Multipart upload needs a metadata part and a media part.")
    try:
        meta = json.loads(found[0][1] or b"{}")
    except ValueError:
        raise bad_request("Invalid JSON payload received.") from None
    return meta if isinstance(meta, dict) else {}, found[1][1]


@route("POST", "upload/users/{u}/messages/send", "send", 100)
def upload_send(world: World, call: Call) -> ApiResponse:
    kind = call.req.arg("uploadType", "media")
    if kind == "media":
        return _sent(world, call, call.req.body, call.req.arg("threadId") or None)
    if kind == "multipart":
        meta, raw = _multipart(call)
        return _sent(world, call, raw, meta.get("threadId") or None)
    if kind == "resumable":
        return _open_session(world, call)
    raise bad_request(f"Invalid uploadType: {kind}")


def _open_session(world: World, call: Call) -> ApiResponse:
    meta = call.req.json() if call.req.body else {}
    size_header = call.req.headers.get("x-upload-content-length")
    size = int(size_header) if size_header and size_header.isdigit() else None
    if size is not None and size > MAX_MESSAGE_BYTES:
        raise too_large()
    upload_id = secrets.token_urlsafe(24)
    world.uploads[upload_id] = UploadSession(call.box.address, meta.get("threadId") or None, size)
    location = (
        f"{call.req.root_url}/upload/gmail/v1/users/{call.box.address}/messages/send"
        f"?uploadType=resumable&upload_id={upload_id}"
    )
    return ApiResponse(200, None, {"Location": location, "X-GUploader-UploadID": upload_id})


@route("PUT", "upload/users/{u}/messages/send", "send", 0)
def upload_chunk(world: World, call: Call) -> ApiResponse:
    upload_id = call.req.arg("upload_id")
    session = world.uploads.get(upload_id)
    if session is None or session.user != call.box.address:
        raise not_found()
    crange = call.req.headers.get("content-range", "")
    query = _STATUS_QUERY.fullmatch(crange)
    if query is None and crange:
        found = _RANGE.fullmatch(crange)
        if found is None or int(found.group(1)) != len(session.received):
            raise bad_request("Invalid Content-Range")
        if found.group(3) != "*":
            session.size = int(found.group(3))
    session.received += call.req.body
    if len(session.received) > MAX_MESSAGE_BYTES:
        del world.uploads[upload_id]
        raise too_large()
    total = (
        session.size if session.size is not None else (None if crange else len(session.received))
    )
    if total is None or len(session.received) < total:
        return _incomplete(len(session.received))
    del world.uploads[upload_id]
    return _sent(world, call, bytes(session.received), session.thread_id)


def session_token(
    world: World, method: str, query: dict[str, list[str]], headers: dict[str, str]
) -> AccessToken | None:
    """A resumable session URI is its own credential, as at Google: a PUT to it without an
    Authorization header acts for the user who opened the session."""
    upload_id = (query.get("upload_id") or [""])[0]
    session = world.uploads.get(upload_id)
    if method != "PUT" or "authorization" in headers or session is None:
        return None
    return AccessToken(session.user, frozenset({SEND}), time.time() + 60, "upload-session")


def _incomplete(have: int) -> ApiResponse:
    headers = {"Range": f"bytes=0-{have - 1}"} if have else {}
    return ApiResponse(308, None, headers)
