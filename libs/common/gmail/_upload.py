"""Gmail's resumable upload, for messages too large for one JSON request: a POST opens a
session (its URI comes back in ``Location``), then PUTs carry the message in chunks with
``Content-Range``, 308 until the last byte, then 200 with the sent message.

A chunk that fails (no answer, a 5xx) is followed by a status query (``Content-Range: bytes
*/TOTAL``): Google answers 308 with the ``Range`` it holds (or 200 when the message is already
out) and the upload resumes from there, so a message is never sent twice. A session that
expired (404 or 410) starts over once. The session URI is its own credential: its PUTs carry
no Authorization header.
"""

from __future__ import annotations

import logging

import httpx

from libs.common.gmail._http import GmailHttp
from libs.common.mail.errors import MailError, MailUnavailable, TooLarge

#: Gmail's largest message (the upload endpoint's limit).
LARGEST = 35 * 1024 * 1024
#: Each chunk but the last must be a multiple of 256 KiB; 8 MiB keeps a 35 MB message to
#: five requests while a broken chunk costs little to send again.
CHUNK = 8 * 1024 * 1024
#: Chunk failures one session survives, each resumed from what Google kept.
MAX_RESUMES = 5
#: A session Google no longer knows: expired (a week at Google) or dropped.
_GONE = (404, 410)
UPLOAD_PATH = "/upload/gmail/v1/users/me/messages/send"

log = logging.getLogger("mailpipe.gmail")


def too_large(size: int) -> TooLarge:
    return TooLarge(
        f"gmail message of {size} bytes is over Gmail's limit of {LARGEST} bytes",
        code="too_large",
        hint="Gmail takes messages up to 35 MB: send the large files as links, or split them",
    )


def upload(http: GmailHttp, mime: bytes, meta: dict[str, str]) -> None:
    """Send ``mime`` (within :data:`LARGEST`: ``send_mime`` refuses a larger one before any
    request) by the resumable upload; a session found expired starts over once."""
    for attempt in (1, 2):
        location = _open(http, mime, meta)
        try:
            _push(http, location, mime)
            return
        except MailError as exc:
            if exc.status not in _GONE:
                raise
            if attempt == 2:
                # Nothing went out (a finished session answers 200): a later try may send.
                raise _expired_twice(exc) from None
            log.warning("gmail upload session for %s expired; starting over", http.user)


def _expired_twice(cause: MailError) -> MailUnavailable:
    err = MailUnavailable(
        f"gmail upload session expired twice in a row: {cause.message}", code="upload_expired"
    )
    err.status = cause.status
    return err


def _open(http: GmailHttp, mime: bytes, meta: dict[str, str]) -> str:
    opened = http.request(
        "POST",
        UPLOAD_PATH,
        what="messages.send",
        params={"uploadType": "resumable"},
        json=meta,
        headers={
            "X-Upload-Content-Type": "message/rfc822",
            "X-Upload-Content-Length": str(len(mime)),
        },
        idempotent=False,
    )
    return str(opened.headers["Location"])


def _push(http: GmailHttp, location: str, mime: bytes) -> None:
    """Every byte from where Google's copy ends, chunk by chunk, until the 200."""
    total, offset, resumes = len(mime), 0, 0
    while True:
        end = min(offset + CHUNK, total)
        try:
            answer = http.request(
                "PUT",
                location,
                what="upload.chunk",
                content=mime[offset:end],
                headers={
                    "Content-Type": "message/rfc822",
                    "Content-Range": f"bytes {offset}-{end - 1}/{total}",
                },
                idempotent=False,  # the last chunk sends the message: never blindly again
                auth=False,
            )
        except MailUnavailable as exc:  # OutcomeUnknown too: the status query settles it
            resumes += 1
            if resumes > MAX_RESUMES:
                raise
            answer = _status(http, location, total, exc)
            log.warning("gmail upload chunk failed (%s); resuming", exc.code)
        if answer.status_code < 300:
            return
        offset = kept(answer)


def _status(http: GmailHttp, location: str, total: int, cause: MailError) -> httpx.Response:
    """How far the session got; when that cannot be told, the chunk's own error (an
    :class:`OutcomeUnknown` when it was the last and may have sent the message)."""
    try:
        return http.request(
            "PUT",
            location,
            what="upload.status",
            content=b"",
            headers={"Content-Range": f"bytes */{total}"},
            auth=False,
        )
    except MailError as exc:
        if exc.status in _GONE:
            raise
        raise cause from None


def kept(answer: httpx.Response) -> int:
    """The bytes a 308 says the session holds: ``Range: bytes=0-N`` → N + 1; none → 0."""
    held = answer.headers.get("Range", "")
    last = held.rpartition("-")[2]
    return int(last) + 1 if held.startswith("bytes=") and last.isdigit() else 0
