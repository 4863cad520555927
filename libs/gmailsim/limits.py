"""Quota units per user (Gmail's per-method costs), fault knobs and request statistics.

Gmail meters every call in quota units per user: 250 per second (15,000 per minute); over
that it answers 429 ``rateLimitExceeded`` "User-rate limit exceeded" (or, as it sometimes
does, 403 ``userRateLimitExceeded``). Each call of a batch is metered on its own.
"""

from __future__ import annotations

import random
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from libs.gmailsim.errors import GmailHTTPError, rate_limited
from libs.simkit import faults as simkit


@dataclass
class Faults(simkit.Faults):
    """``throttle_ratio`` answers rateLimitExceeded (``throttle_status``: 429, or the 403
    Gmail also sends), ``error_ratio`` a backend error (``error_status``: 500 or 503);
    ``retry_after_s`` goes with quota and injected 429s, and 0 sends none (Gmail does not
    always)."""

    error_status: int = 503
    #: Quota units per user per second and per minute.
    user_units_per_s: int = 250
    user_units_per_min: int = 15_000
    #: How an exhausted quota is answered: 429 rateLimitExceeded or 403 userRateLimitExceeded.
    quota_status: int = 429
    #: The next N sends (``messages.send``, an upload's last bytes) go out and are then
    #: answered 500 backendError, as when Gmail's answer is lost; counts down to 0.
    lose_send_responses: int = 0
    #: How ``throttle_ratio``'s throttling is answered: 429 or 403, reason rateLimitExceeded.
    throttle_status: int = 429
    #: The Gmail API (or the Admin SDK API, for the directory) is not enabled in the service
    #: account's Cloud project: every call is 403 accessNotConfigured.
    gmail_api_disabled: bool = False
    directory_api_disabled: bool = False
    #: The next N resumable-upload chunks break half-way: the first half is kept, the PUT is
    #: answered 503, as when the connection drops mid-chunk; counts down to 0.
    break_upload_chunks: int = 0
    #: The next N PUTs to an open upload session find it expired (404); counts down to 0.
    expire_upload_sessions: int = 0

    def check(self) -> None:
        statuses = (self.quota_status, self.throttle_status)
        if not set(statuses) <= {403, 429} or self.error_status not in (500, 503):
            raise ValueError(
                "quota_status and throttle_status must be 403 or 429, error_status 500 or 503"
            )

    def coerce(self, key: str, value: Any) -> Any:
        # bool("false") is True: a switch takes JSON's true and false only.
        if isinstance(getattr(self, key), bool) and not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false")
        return super().coerce(key, value)


class Stats(simkit.Stats):
    """Requests by route and status, quota units per user, tokens issued."""

    def __init__(self) -> None:
        super().__init__()
        #: The Directory API's requests, apart from the Gmail API's ``http_requests``.
        self.directory_requests = 0
        self.tokens_issued = 0
        self.units: Counter[str] = Counter()
        self.rate_limited = 0
        #: Batches of more than 50 calls: served, as Google does, but it discourages them.
        self.large_batches = 0
        #: route → when it was first called (epoch s), a batch's parts included: when a
        #: client first read mail (the benchmark's start), as the Graph simulator's stats say.
        self.first_request_at: dict[str, float] = {}
        #: mailbox → how often the token reading its history changed: one poller at a time
        #: changes it once per hand-over; two pollers taking turns change it at every turn.
        self.history_reader_changes: Counter[str] = Counter()
        self._history_reader: dict[str, int] = {}

    def history_read(self, mailbox: str, reader: int) -> None:
        """``reader`` (a token's identity: each client process has its own) read ``mailbox``'s
        history."""
        last = self._history_reader.get(mailbox)
        if last is None:
            self.history_reader_changes.setdefault(mailbox, 0)
        elif last != reader:
            self.history_reader_changes[mailbox] += 1
        self._history_reader[mailbox] = reader

    def record(
        self, route: str, status: int, *, batch_item: bool = False, directory: bool = False
    ) -> None:
        self.first_request_at.setdefault(route, time.time())
        if directory:
            self.requests[route][status] += 1
            self.directory_requests += 1
        else:
            super().record(route, status, batch_item=batch_item)

    def as_dict(self) -> dict[str, Any]:
        return {
            **super().as_dict(),
            "directory_requests": self.directory_requests,
            "tokens_issued": self.tokens_issued,
            "units": dict(self.units),
            "rate_limited": self.rate_limited,
            "large_batches": self.large_batches,
            "first_request_at": dict(self.first_request_at),
            "history_reader_changes": dict(self.history_reader_changes),
        }


class _Window:
    """Units spent in the last ``span_s`` seconds, with a running total."""

    def __init__(self, span_s: float) -> None:
        self.span_s = span_s
        self.spent: deque[tuple[float, int]] = deque()
        self.total = 0

    def used(self, now: float) -> int:
        while self.spent and self.spent[0][0] <= now - self.span_s:
            self.total -= self.spent.popleft()[1]
        return self.total

    def add(self, now: float, units: int) -> None:
        self.spent.append((now, units))
        self.total += units


class Quota:
    """Units spent per user in sliding one-second and one-minute windows, then random faults."""

    def __init__(self, faults: Faults, stats: Stats, rng: random.Random) -> None:
        self.faults = faults
        self.stats = stats
        self.rng = rng
        self.windows: dict[str, tuple[_Window, _Window]] = {}

    def spend(self, user: str, units: int) -> None:
        now = time.monotonic()
        second, minute = self.windows.setdefault(user, (_Window(1.0), _Window(60.0)))
        f = self.faults
        over_s = second.used(now) + units > f.user_units_per_s
        if over_s or minute.used(now) + units > f.user_units_per_min:
            raise self._exhausted()
        second.add(now, units)
        minute.add(now, units)
        self.stats.units[user] += units
        self.random_faults()

    def _exhausted(self) -> GmailHTTPError:
        self.stats.rate_limited += 1
        if self.faults.quota_status == 403:
            return GmailHTTPError(
                403, "userRateLimitExceeded", "User Rate Limit Exceeded", domain="usageLimits"
            )
        return rate_limited(self.faults.retry_after_s)

    def random_faults(self) -> None:
        f = self.faults
        fault = f.draw(self.rng)
        if fault == "throttle":
            self.stats.rate_limited += 1
            if f.throttle_status == 403:
                raise GmailHTTPError(
                    403, "rateLimitExceeded", "Rate Limit Exceeded", domain="usageLimits"
                )
            raise rate_limited(f.retry_after_s)
        if fault == "error":
            raise GmailHTTPError(
                f.error_status,
                "backendError",
                "Backend Error"
                if f.error_status == 500
                else "The service is currently unavailable.",
            )
