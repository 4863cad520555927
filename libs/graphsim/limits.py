"""Fault knobs, Exchange-like throttling and request statistics.

Throttling follows Exchange Online: at most 4 concurrent requests per app and mailbox, and a
budget of 10,000 requests per 10 minutes per app and mailbox. Both answer 429
``ApplicationThrottled`` with ``Retry-After``. Fault knobs add random 429s / 503s, latency,
short token lifetimes and lost answers to sends on top, so clients can be tested against a
misbehaving service.
"""

from __future__ import annotations

import random
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from libs.graphsim import poison
from libs.graphsim.errors import GraphHTTPError, throttled
from libs.simkit import faults as simkit

#: A delta round not paged on for this long was abandoned by its client (see Stats.round_page).
ROUND_IDLE_S = 60.0


@dataclass
class Faults(simkit.Faults):
    """``throttle_ratio`` answers 429 ApplicationThrottled (requests and batch items),
    ``error_ratio`` 503 ServiceUnavailable (requests); ``retry_after_s`` goes with every
    429 / 503."""

    #: Concurrent requests per app and mailbox before MailboxConcurrency 429s.
    max_concurrency: int = 4
    #: Requests per app and mailbox per ``budget_window_s``.
    mailbox_budget: int = 10_000
    budget_window_s: float = 600.0
    #: The next N sends (sendMail, draft ``send``) go out and are then answered 504, as when
    #: Graph's answer is lost after it accepted the message; counts down to 0.
    lose_send_responses: int = 0
    #: Messages every read of which fails (:mod:`libs.graphsim.poison`): id → entry.
    poisoned: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Change notifications (:mod:`libs.graphsim.notify`) -----------------------------------
    #: Delay before a notification is posted; a range up to ``notify_delay_max_ms`` if larger.
    notify_delay_ms: int = 0
    notify_delay_max_ms: int = 0
    #: Fractions of change notifications never sent / sent twice.
    notify_drop_ratio: float = 0.0
    notify_duplicate_ratio: float = 0.0
    #: Change notifications held until this many are pending, then released shuffled.
    notify_reorder_window: int = 0
    #: A partly filled reorder window is released after this long, so nothing waits for ever.
    notify_reorder_hold_ms: int = 1000
    #: Seeds the notification faults' random choices (``None``: not reproducible).
    notify_seed: int | None = None
    #: Notifications for one URL that fall due within this time go in one POST.
    notify_batch_ms: int = 50
    #: Further attempts after a 5xx, a timeout or a refused connection; the first waits
    #: ``notify_retry_ms``, each next one twice as long.
    notify_retries: int = 3
    notify_retry_ms: int = 200
    #: How long a notification POST may take before it counts as a timeout.
    notify_timeout_s: float = 3.0
    #: How long the validation request may take (Graph: 10 s).
    validation_timeout_s: float = 10.0
    #: The longest a message subscription may live (Graph: 4230 minutes without resource data).
    subscription_max_minutes: int = 4230
    #: Beyond it: refused with Graph's 400 (as Graph does for mail), or, when set, granted
    #: the longest instead (as Graph does for some other resources).
    subscription_clamp: bool = False

    def coerce(self, key: str, value: Any) -> Any:
        if key == "poisoned":
            value = poison.parse(value)
        if key == "notify_seed":
            return None if value is None else int(value)
        return super().coerce(key, value)


class Stats(simkit.Stats):
    """Request counts by route template and status, throttling, peak concurrency."""

    def __init__(self) -> None:
        super().__init__()
        self.throttled = 0
        self.max_concurrency: dict[str, int] = {}
        #: Epoch seconds of the first and the last request per route template, so a caller
        #: can tell when a client started and stopped reading.
        self.first_at: dict[str, float] = {}
        self.last_at: dict[str, float] = {}
        #: Requests and batch items per mailbox: what its request budget was spent on.
        self.mailbox_requests: Counter[str] = Counter()
        #: Delta rounds per mailbox: started, and the most ever open at once (several clients
        #: reading one mailbox's changes at the same time would show here as more than 1).
        self.delta_rounds: Counter[str] = Counter()
        self.max_open_delta_rounds: dict[str, int] = {}
        #: Open rounds per mailbox: round id → monotonic time of its last page.
        self.open_rounds: dict[str, dict[str, float]] = {}
        #: Change notifications: sent, dropped, duplicated, failed_deliveries (attempts that
        #: got no 2xx), undelivered (given up), posts, validations, validation_failures,
        #: lifecycle_sent.
        self.notifications: Counter[str] = Counter()

    def round_page(self, mailbox: str, round_id: str, *, first: bool, last: bool) -> None:
        """A delta page was served: the round opens with its first page and closes with the
        page that carries the deltaLink. A round nobody pages on for ``ROUND_IDLE_S`` was
        abandoned by its client (a failed page) and no longer counts as open."""
        now = time.monotonic()
        rounds = self.open_rounds.setdefault(mailbox, {})
        for stale in [r for r, seen in rounds.items() if now - seen > ROUND_IDLE_S]:
            del rounds[stale]
        if first:
            self.delta_rounds[mailbox] += 1
        rounds[round_id] = now
        if len(rounds) > self.max_open_delta_rounds.get(mailbox, 0):
            self.max_open_delta_rounds[mailbox] = len(rounds)
        if last:
            del rounds[round_id]

    def record(self, route: str, status: int, *, batch_item: bool = False) -> None:
        super().record(route, status, batch_item=batch_item)
        if not batch_item:
            now = time.time()
            self.first_at.setdefault(route, now)
            self.last_at[route] = now
        if status == 429:
            self.throttled += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            **super().as_dict(),
            "throttled": self.throttled,
            "max_concurrency": dict(self.max_concurrency),
            "first_request_at": dict(self.first_at),
            "last_request_at": dict(self.last_at),
            "mailbox_requests": dict(self.mailbox_requests),
            "delta_rounds": dict(self.delta_rounds),
            "max_open_delta_rounds": dict(self.max_open_delta_rounds),
            "notifications": dict(self.notifications),
        }


class Limiter:
    """Concurrency and budget per (app, mailbox); random faults from :class:`Faults`."""

    def __init__(self, faults: Faults, stats: Stats, rng: random.Random) -> None:
        self.faults = faults
        self.stats = stats
        self.rng = rng
        self.inflight: Counter[tuple[str, str]] = Counter()
        self.windows: dict[tuple[str, str], deque[float]] = {}

    def enter(self, app_id: str, mailbox: str) -> None:
        """Count a request in; raises a 429 (already counted out) when over a limit."""
        key = (app_id, mailbox)
        self.inflight[key] += 1
        now_in = self.inflight[key]
        if now_in > self.stats.max_concurrency.get(mailbox, 0):
            self.stats.max_concurrency[mailbox] = now_in
        try:
            if now_in > self.faults.max_concurrency:
                raise throttled(
                    "Application is over its MailboxConcurrency limit.",
                    self.faults.retry_after_s,
                )
            self.spend(app_id, mailbox)
        except GraphHTTPError:
            self.leave(app_id, mailbox)
            raise

    def leave(self, app_id: str, mailbox: str) -> None:
        key = (app_id, mailbox)
        self.inflight[key] -= 1
        if self.inflight[key] <= 0:
            del self.inflight[key]

    def spend(self, app_id: str, mailbox: str) -> None:
        """One request (or batch item) against the budget, then the random faults."""
        self.stats.mailbox_requests[mailbox] += 1
        window = self.windows.setdefault((app_id, mailbox), deque())
        now = time.monotonic()
        horizon = now - self.faults.budget_window_s
        while window and window[0] <= horizon:
            window.popleft()
        if len(window) >= self.faults.mailbox_budget:
            wait = max(1, int(window[0] - horizon) + 1)
            raise throttled("Application is over its request budget for this mailbox.", wait)
        window.append(now)
        self.random_faults()

    def random_faults(self) -> None:
        f = self.faults
        fault = f.draw(self.rng)
        if fault == "throttle":
            raise throttled("Application is over its MailboxConcurrency limit.", f.retry_after_s)
        if fault == "error":
            raise GraphHTTPError(
                503,
                "ServiceUnavailable",
                "The service is temporarily unavailable. Please retry.",
                headers={"Retry-After": str(f.retry_after_s)},
            )
