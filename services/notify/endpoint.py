"""The notification endpoint as a Starlette app (docs/push.md): Graph's validation handshake,
change and lifecycle notifications, ``/healthz``. Nothing else: it is exposed to the internet
through the operator's HTTPS proxy, apart from the console.

A POST is answered 202 before anything is looked up or published: its notifications go onto a
bounded in-process queue, handled in order by one worker thread. A full queue (a flood) still
answers 202 and drops that POST's hints, counted as ``queue_full``: the safety rounds read the
mail, and a 503 would only make Graph send the same notifications again into the flood.
A notification is checked (subscription known, clientState right) and, when it passes, turned
into a :class:`~libs.common.contracts.MailboxChanged` hint, at most one per mailbox and reason
per second (one more within the second is deferred to its end, never dropped).
Every POST that parses is answered 202, even one that fails the check: Graph retries a non-2xx
answer for hours, and a forger learns nothing from the status (the metrics tell the operator;
the log says it at most once a minute per kind of rejection, :mod:`.domain.quiet`).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from starlette.applications import Starlette
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
from services.notify.domain.quiet import LogBudget

log = structlog.get_logger("services.notify")

Lookup = Callable[[str], PushSubscription | None]
Publish = Callable[[MailboxChanged], object]
Posted = tuple[list[Notification], str]

#: Notification POSTs waiting for the worker at most (each up to 1,000 notifications).
QUEUE_POSTS = 1000


class Endpoint:
    """Checks notifications against the stored subscriptions and publishes the hints."""

    def __init__(
        self,
        lookup: Lookup,
        publish: Publish,
        gate: HintGate | None = None,
        *,
        queue_posts: int = QUEUE_POSTS,
    ) -> None:
        self._lookup, self._publish = lookup, publish
        self._gate = gate or HintGate()
        self._lock = threading.Lock()
        #: Deferred hints not yet published, by gate key.
        self._deferred: dict[str, threading.Timer] = {}
        self._queue: queue.Queue[Posted | None] = queue.Queue(queue_posts)
        self._quiet = LogBudget()
        self._worker = threading.Thread(target=self._work, name="notify-worker", daemon=True)
        self._worker.start()

    def submit(self, notifications: list[Notification], kind: str) -> bool:
        """Queue a POST's notifications for the worker without waiting; False (its hints
        dropped, counted ``queue_full``) when the queue is full."""
        try:
            self._queue.put_nowait((notifications, kind))
        except queue.Full:
            metrics.NOTIFICATIONS.labels(kind, "queue_full").inc(len(notifications))
            self._rejected("queue_full", None)
            return False
        return True

    def _work(self) -> None:
        while (posted := self._queue.get()) is not None:
            try:
                self.handle(*posted)
            except Exception:  # the worker never dies; the safety rounds read that mail
                log.exception("notifications not handled")
            finally:
                self._queue.task_done()
        self._queue.task_done()

    def handle(self, notifications: list[Notification], kind: str) -> None:
        for note in notifications:
            outcome = self._one(note)
            metrics.NOTIFICATIONS.labels(kind, outcome).inc()
            if outcome != "accepted":
                self._rejected(outcome, note.subscription_id)

    def _rejected(self, outcome: str, subscription_id: str | None) -> None:
        """Logged at most once a minute per outcome; never the clientState, only which check
        failed."""
        with self._lock:
            unlogged = self._quiet.allow(outcome, time.monotonic())
        if unlogged is not None:
            log.warning(
                "notification dropped",
                outcome=outcome,
                subscription=subscription_id,
                unlogged_since_last=unlogged,
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
        """Wait for the queue to be handled and the deferred hints to go out (tests; a
        stopping endpoint)."""
        with self._queue.all_tasks_done:
            self._queue.all_tasks_done.wait_for(lambda: not self._queue.unfinished_tasks, timeout_s)
        with self._lock:
            timers = list(self._deferred.values())
        for timer in timers:
            timer.join(timeout_s)

    def close(self, timeout_s: float) -> None:
        """The worker ends once the queue before it is handled."""
        try:
            self._queue.put(None, timeout=timeout_s)
        except queue.Full:
            return  # a daemon thread: it ends with the process
        self._worker.join(timeout_s)


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
    endpoint.submit(found, kind)  # looked up and published by the worker, after the answer
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
