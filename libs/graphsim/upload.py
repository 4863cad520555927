"""Attachment upload sessions: ``createUploadSession`` on a draft, then chunked PUTs to a
pre-authenticated upload URL that must NOT carry an Authorization header."""

from __future__ import annotations

import base64
import datetime as dt
import re
import secrets
from typing import Any

from libs.graphsim import mime
from libs.graphsim.errors import GraphHTTPError, bad_request
from libs.graphsim.mail import find
from libs.graphsim.router import REQUEST_CAP, Call, GraphResponse, route
from libs.graphsim.send import file_attachment
from libs.graphsim.world import UploadSession, World

MAX_ATTACHMENT = 150 * 1024 * 1024
SESSION_TTL = dt.timedelta(hours=2)
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


@route("POST", "users/{u}/messages/{m}/attachments/createUploadSession", "write")
def create_session(world: World, call: Call) -> GraphResponse:
    msg = find(call)
    data = {k.lower(): v for k, v in call.req.json().items()}
    item = data.get("attachmentitem") or {}
    size = item.get("size")
    if not isinstance(size, int) or size <= 0:
        raise bad_request("AttachmentItem.size must be a positive integer.", "ErrorInvalidRequest")
    if size > MAX_ATTACHMENT:
        raise bad_request(
            "The attachment exceeds the 150 MB limit.", "ErrorAttachmentSizeLimitExceeded"
        )
    sid = secrets.token_urlsafe(24)
    expires = dt.datetime.now(dt.UTC) + SESSION_TTL
    attachment = {k: item.get(k) for k in ("name", "contentType", "isInline", "contentId")}
    world.uploads[sid] = UploadSession(
        call.box.address, msg.immutable_id, attachment, size, expires
    )
    return GraphResponse(
        201,
        {
            "@odata.context": f"{call.req.base_url}/$metadata#microsoft.graph.uploadSession",
            "uploadUrl": f"{call.req.root_url}/_upload/{sid}?authtoken={secrets.token_urlsafe(16)}",
            "expirationDateTime": mime.iso(expires),
            "nextExpectedRanges": ["0-"],
        },
    )


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], Any]:
    return status, {}, {"error": {"code": code, "message": message}}


def put_chunk(
    world: World, sid: str, headers: dict[str, str], body: bytes, root_url: str
) -> tuple[int, dict[str, str], Any]:
    """One chunk: 200 with the next expected range, 201 when the attachment is complete."""
    if "authorization" in headers:
        return _error(
            401,
            "InvalidAuthenticationToken",
            "The upload URL is pre-authenticated: do not send an Authorization header.",
        )
    session = world.uploads.get(sid)
    if session is None or session.expires < dt.datetime.now(dt.UTC):
        return _error(404, "ErrorItemNotFound", "The upload session was not found or has expired.")
    found = _RANGE.match(headers.get("content-range", ""))
    if found is None:
        return _error(400, "InvalidContentRange", "Content-Range must be 'bytes start-end/total'.")
    start, end, total = (int(g) for g in found.groups())
    if len(body) > REQUEST_CAP:
        return _error(413, "RequestEntityTooLarge", "A chunk must not exceed 4 MB.")
    if total != session.size or start != len(session.received) or end - start + 1 != len(body):
        expected = f"{len(session.received)}-"
        return 416, {}, {"error": {"code": "InvalidRange", "message": f"Expected range {expected}"}}
    session.received.extend(body)
    if len(session.received) < session.size:
        return (
            200,
            {},
            {
                "expirationDateTime": mime.iso(session.expires),
                "nextExpectedRanges": [f"{len(session.received)}-"],
            },
        )
    del world.uploads[sid]
    return _attach(world, session, root_url)


def _attach(world: World, session: UploadSession, root_url: str) -> tuple[int, dict[str, str], Any]:
    box = world.mailbox(session.mailbox)
    msg = box.message(session.message_id) if box is not None else None
    if box is None or msg is None:
        return _error(404, "ErrorItemNotFound", "The message of this upload session is gone.")
    data = dict(session.attachment)
    data["contentBytes"] = base64.b64encode(bytes(session.received)).decode()
    att = file_attachment(data)
    msg.attachments.append(att)
    msg.fields["hasAttachments"] = any(not a["isInline"] for a in msg.attachments)
    box.touch(msg)
    location = f"{root_url}/v1.0/users/{box.address}/messages/{msg.rest_id}/attachments/{att['id']}"
    return 201, {"Location": location}, None


def cancel(world: World, sid: str) -> int:
    return 204 if world.uploads.pop(sid, None) is not None else 404


def check_cap(length: int) -> None:
    if length > REQUEST_CAP:
        raise GraphHTTPError(413, "RequestEntityTooLarge", "The request exceeds the 4 MB limit.")
