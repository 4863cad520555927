"""The upload endpoint ``/upload/gmail/v1/users/{u}/messages/send`` with ``uploadType``
``media`` (the body is the RFC 822), ``multipart`` (multipart/related: JSON metadata such as
``threadId``, then the RFC 822) and ``resumable`` (a POST with the metadata opens a session
whose URI comes back in ``Location``; PUTs to it carry the bytes, in one go or in chunks with
``Content-Range``, each but the last a multiple of 256 KiB; 308 with ``Range`` (the bytes
kept) until the last byte, then the sent message, again for any later PUT; ``Content-Range:
bytes */TOTAL`` asks how far it got; the session URI needs no Authorization header, as at
Google). Up to 35 MB, as Gmail.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any

from libs.gmailsim import multipart
from libs.gmailsim.accounts import SEND, AccessToken
from libs.gmailsim.errors import GmailHTTPError, bad_request, not_found
from libs.gmailsim.router import ApiResponse, Call, route
from libs.gmailsim.send import MAX_MESSAGE_BYTES, answer_lost, send_raw, too_large
from libs.gmailsim.world import UploadSession, World

#: A chunk before the last is a multiple of this many bytes.
CHUNK_GRANULARITY = 256 * 1024
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
    if session is None or session.user != call.box.address or session.gone:
        raise not_found()
    if session.done is not None:
        return ApiResponse(200, session.done)  # a finished upload answers so again, as Google's
    if world.faults.expire_upload_sessions > 0:
        world.faults.expire_upload_sessions -= 1
        session.gone, session.received = True, bytearray()
        raise not_found()
    crange = call.req.headers.get("content-range", "")
    if _STATUS_QUERY.fullmatch(crange):
        return _incomplete(len(session.received))
    try:
        _take(world, session, crange, call.req.body)
    except GmailHTTPError as exc:
        if exc.status == 413:
            session.gone, session.received = True, bytearray()  # too large: it is over
        raise
    total = (
        session.size if session.size is not None else (None if crange else len(session.received))
    )
    if total is None or len(session.received) < total:
        return _incomplete(len(session.received))
    return _finish(world, call, session)


def _finish(world: World, call: Call, session: UploadSession) -> ApiResponse:
    """Send the whole message; the session keeps its answer, for a client whose answer was
    lost and asks again."""
    raw, session.received = bytes(session.received), bytearray()
    try:
        msg = send_raw(world, call.box, raw, session.thread_id, answer=False)
    except GmailHTTPError:
        session.gone = True
        raise
    session.done = {"id": msg.id, "threadId": msg.thread_id, "labelIds": ["SENT"]}
    answer_lost(world)
    return ApiResponse(200, session.done)


def _take(world: World, session: UploadSession, crange: str, chunk: bytes) -> None:
    """Append a chunk whose ``Content-Range`` starts where the session's bytes end; a chunk
    before the last must be a multiple of 256 KiB, as Google requires."""
    found = _RANGE.fullmatch(crange) if crange else None
    if crange and (found is None or int(found.group(1)) != len(session.received)):
        raise bad_request("Invalid Content-Range")
    if found is not None and found.group(3) != "*":
        session.size = int(found.group(3))
    have = len(session.received) + len(chunk)
    if have > MAX_MESSAGE_BYTES or (session.size or 0) > MAX_MESSAGE_BYTES:
        raise too_large()
    last = not crange or (session.size is not None and have >= session.size)
    if not last and len(chunk) % CHUNK_GRANULARITY:
        raise bad_request(
            f"Invalid request. The number of bytes uploaded is required to be a multiple "
            f"of {CHUNK_GRANULARITY} bytes, except for the final request."
        )
    if world.faults.break_upload_chunks > 0 and chunk:
        world.faults.break_upload_chunks -= 1
        session.received += chunk[: len(chunk) // 2]
        raise GmailHTTPError(503, "backendError", "The service is currently unavailable.")
    session.received += chunk


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
