"""``GET /records/{id}/events`` (agents and admins): the live updates of a record's page as
Server-Sent Events (docs/console.md, "Live updates"). Each ``record`` event carries the
re-rendered facts and thread (the same partials, escaping and sanitising as the page) whenever
the record's version (libs/common/db/record_versions.py) differs from what the page shows.
``GET /records/events?after=<id>``: the list's ``records`` events, how many records are new.

The stream polls the database, re-checks the session without extending it, and ends when the
client goes, the session ends, the record is deleted or its lifetime is up (the browser then
reconnects with ``Last-Event-ID``); beyond :data:`MAX_STREAMS` a stream only asks the browser
to come back later."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from libs.common.db.record_versions import RecordVersions
from libs.common.db.record_views import RecordViews
from services.web.auth import Accounts, Current
from services.web.domain.roles import may
from services.web.pages.common import refused, requires, templates
from services.web.pages.records import GONE, thread_context
from services.web.security import SESSION_COOKIE

#: Seconds between two looks at the record's version.
POLL_S = 1.0
#: Every how many polls the session is re-checked (and always before anything is sent).
SESSION_EVERY = 5
#: Seconds a stream lives; the browser then reconnects, and is counted (and checked) again.
LIFETIME_S = 300.0
#: Open streams per console process; more are told to come back in BUSY_RETRY_MS.
MAX_STREAMS = 100
RETRY_MS = 2000
BUSY_RETRY_MS = 30000
#: A comment line this often: proxies keep the connection, and a gone client is noticed.
HEARTBEAT_POLLS = 15


class LiveStreams:
    """How many streams this process has open, against its cap."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open = 0
        #: Set when the server stops: the streams end at their next poll instead of holding
        #: the stop up until their lifetime is over.
        self.closing = threading.Event()

    def take(self) -> bool:
        with self._lock:
            if self.open >= MAX_STREAMS:
                return False
            self.open += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.open -= 1


@dataclass(frozen=True)
class Watch:
    """One stream: whose it is, what its page shows, how to look again and what to send."""

    request: Request
    token: str
    shown: str
    #: What the page would show now, as a short text; ``None`` when it is gone.
    look: Callable[[], str | None]
    #: The event (name, data) for what ``look`` said; ``None`` when it is gone meanwhile.
    render: Callable[[], tuple[str, dict[str, Any]] | None]


def event(name: str, data: dict[str, Any], ident: str = "") -> str:
    head = f"id: {ident}\n" if ident else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def fragment(request: Request, record_id: int) -> dict[str, Any] | None:
    """The record's facts and thread as the page renders them; ``None`` when it is gone."""
    views: RecordViews = request.app.state.records
    record = views.get(record_id)
    if record is None:
        return None
    context = thread_context(request, record)
    return {
        "facts": templates.get_template("_record_facts.html").render(context),
        "thread": templates.get_template("_thread.html").render(context),
        "status": record.status,
        "messages": len(context["thread"]),
    }


def _signed_in(accounts: Accounts, token: str) -> Current | None:
    current = accounts.still_live(token)
    return current if current is not None and may(current.user.role, "agent") else None


async def _updates(
    watch: Watch, pause: Callable[[float], Awaitable[None]] = asyncio.sleep
) -> AsyncIterator[str]:
    """The events of one stream until it ends (see the module's text); ``pause`` waits
    between two polls (a test counts the polls with it)."""
    accounts: Accounts = watch.request.app.state.accounts
    closing = watch.request.app.state.live.closing
    shown, polls = watch.shown, 0
    while polls * POLL_S < LIFETIME_S and not closing.is_set():
        version = await run_in_threadpool(watch.look)
        check = version != shown or polls % SESSION_EVERY == 0
        if check and await run_in_threadpool(_signed_in, accounts, watch.token) is None:
            yield event("ended", {"why": "signed-out"})
            return
        if version is None:
            yield event("ended", {"why": "gone"})
            return
        if version != shown:
            found = await run_in_threadpool(watch.render)
            if found is not None:
                yield event(*found, version)
                shown = version
        elif polls % HEARTBEAT_POLLS == HEARTBEAT_POLLS - 1:
            yield ": still here\n\n"
        polls += 1
        await pause(POLL_S)


async def _stream(watch: Watch) -> AsyncIterator[str]:
    live: LiveStreams = watch.request.app.state.live
    if not live.take():
        yield f"retry: {BUSY_RETRY_MS}\n\n"
        return
    try:
        yield f"retry: {RETRY_MS}\n\n"
        async for chunk in _updates(watch):
            yield chunk
    finally:
        # Also when the client went away: the response cancels the stream then.
        live.give_back()


def _response(watch: Watch) -> Response:
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(_stream(watch), media_type="text/event-stream", headers=headers)


def _token(request: Request) -> str:
    return request.cookies.get(SESSION_COOKIE, "")


@requires("agent")
def record_events(request: Request, current: Current, form: FormData | None) -> Response:
    record_id: int = request.path_params["record_id"]
    versions: RecordVersions = request.app.state.versions
    if versions.version(record_id) is None:
        return refused(request, 404, GONE, current)
    # A reconnecting browser names the last version it was sent; a page, the one it shows.
    shown = request.headers.get("last-event-id") or request.query_params.get("since", "")

    def render() -> tuple[str, dict[str, Any]] | None:
        found = fragment(request, record_id)
        return ("record", found) if found is not None else None

    look = partial(versions.version, record_id)
    return _response(Watch(request, _token(request), shown[:64], look, render))


@requires("agent")
def list_events(request: Request, current: Current, form: FormData | None) -> Response:
    """``records`` events: how many records are newer than the list's page (``after``)."""
    versions: RecordVersions = request.app.state.versions
    after = request.query_params.get("after", "")
    newest = int(after) if after.isdigit() and len(after) < 19 else versions.newest_record()
    shown = request.headers.get("last-event-id") or "0"

    def look() -> str:
        return str(versions.records_after(newest))

    def render() -> tuple[str, dict[str, Any]]:
        return "records", {"new": int(look())}

    return _response(Watch(request, _token(request), shown[:64], look, render))


routes = [
    Route("/records/events", list_events, methods=["GET"]),
    Route("/records/{record_id:int}/events", record_events, methods=["GET"]),
]
