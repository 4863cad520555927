"""How much of a request body a form may send (docs/console.md, "Request size"): the reply
form, which carries files, a little over the reply's 50 MiB of files; every other form far
less. A body over its cap is refused with 413 as soon as it is seen to be over: by its
Content-Length before a byte is read, else while it streams in, so the rest is never read
(neither into memory nor into the multipart parser's temporary files)."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.types import Message, Receive

from services.web.domain.body_limits import BodyLimits


class BodyTooLarge(Exception):
    """The body is over ``limit`` bytes (what the page says)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"over {limit} bytes")
        self.limit = limit


def limits_of(request: Request) -> BodyLimits:
    found: BodyLimits = request.app.state.body_limits
    return found


def _capped(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def capped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return capped


async def read_form(request: Request, limit: int) -> FormData:
    """The request's form, read only while it stays within ``limit`` bytes; raises
    :class:`BodyTooLarge` otherwise (the multipart parser closes its files then)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    return await Request(request.scope, _capped(request.receive, limit)).form()
