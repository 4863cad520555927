"""The notification endpoint as a Starlette app (docs/push.md): Graph's validation handshake,
change and lifecycle notifications, ``/healthz``. Nothing else: it is exposed to the internet
through the operator's HTTPS proxy, apart from the console.

A notification is checked (subscription known, clientState right) and, when it passes, turned
into a :class:`~libs.common.contracts.MailboxChanged` hint, at most one per mailbox and reason
per second (one more within the second is deferred to its end, never dropped).
Every POST that parses is answered 202, even one that fails the check: Graph retries a non-2xx
answer for hours, and a forger learns nothing from the status (the metrics tell the operator).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from libs.common.contracts import MailboxChanged
from libs.common.db.push_subscriptions import PushSubscription
from services.notify import metrics
from services.notify.domain.gate import HintGate
from services.notify.domain.notifications import (
    MAX_BODY_BYTES,
    Malformed,
    Notification,
    Reason,
    parse,
    validation_token,
)

log = structlog.get_logger("services.notify")

Lookup = Callable[[str], PushSubscription | None]
Publish = Callable[[MailboxChanged], object]


class Endpoint:
    """Checks notifications against the stored subscriptions and publishes the hints."""

    def __init__(self, lookup: Lookup, publish: Publish, gate: HintGate | None = None) -> None:
        self._lookup, self._publish = lookup, publish
        self._gate = gate or HintGate()
        self._lock = threading.Lock()
        #: Deferred hints not yet published, by gate key.
        self._deferred: dict[str, threading.Timer] = {}

    def handle(self, notifications: list[Notification], kind: str) -> None:
        for note in notifications:
            outcome = self._one(note)
            metrics.NOTIFICATIONS.labels(kind, outcome).inc()
            if outcome != "accepted":  # never the clientState: only which check failed
                log.warning(
                    "notification dropped", outcome=outcome, subscription=note.subscription_id
                )

    def _one(self, note: Notification) -> str:
        sub = self._lookup(note.subscription_id)
        if sub is None:
            return "unknown_subscription"
        if not sub.matches(note.client_state):
            return "bad_client_state"
        key = f"{sub.mailbox}/{note.reason}"
        with self._lock:
            delay = self._gate.delay(key, time.monotonic())
            if delay is None:  # the deferred hint already due covers this one
                metrics.HINTS_HELD.inc()
                return "accepted"
            if delay > 0:
                metrics.HINTS_HELD.inc()
                timer = threading.Timer(delay, self._send, (sub, note.reason, key))
                timer.daemon = True
                self._deferred[key] = timer
                timer.start()
                return "accepted"
        self._send(sub, note.reason)
        return "accepted"

    def _send(self, sub: PushSubscription, reason: Reason, deferred: str | None = None) -> None:
        if deferred is not None:
            with self._lock:
                self._deferred.pop(deferred, None)
        hint = MailboxChanged(
            mailbox=sub.mailbox,
            reason=reason,
            subscription_id=sub.subscription_id,
            occurred_at=datetime.now(UTC),
        )
        try:
            self._publish(hint)
        except Exception:  # a deferred hint's thread must not die loudly; polling covers it
            if deferred is None:
                raise
            log.exception("deferred hint not published", mailbox=sub.mailbox)
            return
        metrics.HINTS.labels(reason).inc()

    def settle(self, timeout_s: float) -> None:
        """Wait for the deferred hints to go out (tests; a stopping endpoint)."""
        with self._lock:
            timers = list(self._deferred.values())
        for timer in timers:
            timer.join(timeout_s)


def build_app(endpoint: Endpoint) -> Starlette:
    async def notifications(request: Request) -> Response:
        return await _receive(request, endpoint, lifecycle=False)

    async def lifecycle(request: Request) -> Response:
        return await _receive(request, endpoint, lifecycle=True)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/notifications", notifications, methods=["POST"]),
            Route("/lifecycle", lifecycle, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


async def _receive(request: Request, endpoint: Endpoint, *, lifecycle: bool) -> Response:
    kind = "lifecycle" if lifecycle else "change"
    try:
        token = validation_token(request.query_params.get("validationToken"))
    except Malformed:
        return _plain("bad validation token", 400)
    if token is not None:  # Graph's handshake: echo at once, nothing else
        return _plain(token, 200)
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return _plain("JSON only", 415)
    body = await _bounded_body(request)
    if body is None:
        metrics.NOTIFICATIONS.labels(kind, "malformed").inc()
        return _plain("body too large", 413)
    try:
        found = parse(body, lifecycle=lifecycle)
    except Malformed as exc:
        metrics.NOTIFICATIONS.labels(kind, "malformed").inc()
        return _plain(str(exc), 400)
    await run_in_threadpool(endpoint.handle, found, kind)
    return Response(status_code=202)


async def _bounded_body(request: Request) -> bytes | None:
    """The body, or None once it passes :data:`MAX_BODY_BYTES` (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


def _plain(text: str, status: int) -> PlainTextResponse:
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    return PlainTextResponse(text, status_code=status, headers=headers)
