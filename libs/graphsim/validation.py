"""The validation handshake Graph performs before it creates a subscription: a POST to each
notification URL with ``?validationToken=<opaque text>``, answered 200 with the token echoed
as ``text/plain`` within the timeout (Graph: 10 s)."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import quote, urlsplit

import httpx

from libs.graphsim.errors import GraphHTTPError

VALIDATION_FAILED = (
    "Subscription validation request failed. Notification endpoint must respond with 200 OK "
    "to validation request."
)


def check_url(url: object, field: str, allow_http: bool) -> str:
    """A notification URL Graph would take: absolute https (http only when the simulator was
    started allowing it, for tests)."""
    text = str(url or "")
    parts = urlsplit(text)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme.lower() not in schemes or not parts.hostname:
        raise GraphHTTPError(
            400, "InvalidRequest", f"The {field} must be an absolute https URL: '{text}'."
        )
    return text


def new_token() -> str:
    # Graph's tokens are text with spaces and colons, so endpoints must URL-decode them.
    return (
        "Validation: Testing client application reachability for subscription "
        f"Request-Id: {uuid.uuid4()}"
    )


async def handshake(url: str, timeout_s: float) -> bool:
    """Whether the endpoint echoed a fresh token correctly in time."""
    token = new_token()
    target = f"{url}{'&' if '?' in url else '?'}validationToken={quote(token, safe='')}"
    # trust_env off: a proxy from the environment must not stand between Graph and the app.
    async with httpx.AsyncClient(timeout=timeout_s, trust_env=False) as client:
        try:
            resp = await asyncio.wait_for(
                client.post(target, content=b"", headers={"Content-Type": "text/plain"}),
                timeout_s,
            )
        except (httpx.HTTPError, TimeoutError):
            return False
    media = resp.headers.get("content-type", "").split(";")[0].strip().lower()
    return resp.status_code == 200 and media == "text/plain" and resp.text == token


def failed() -> GraphHTTPError:
    return GraphHTTPError(400, "ValidationError", VALIDATION_FAILED)
