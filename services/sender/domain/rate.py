"""Exchange's sending limit (30 messages a minute per mailbox) as a pure sliding window.

``reserve`` books the earliest moment a message may leave and says how long to wait for
it; the caller holds the job that long and then sends. No job fails because of the limit.

Each send is booked at max(now, the ``limit``-th latest booking + window): any ``limit``
+ 1 consecutive bookings then span at least ``window_s``, so every interval
[a, a + window_s) holds at most ``limit`` sends, and bookings never go backwards. Only the
latest ``limit`` bookings per mailbox are kept.

The window is per process. With several senders on one mailbox, give each ``limit`` / n,
or rely on Exchange's throttling answer (retried with backoff) for the rest.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

EXCHANGE_MESSAGES_PER_MINUTE = 30


class SendRateLimiter:
    def __init__(
        self,
        limit: int = EXCHANGE_MESSAGES_PER_MINUTE,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("limit must be >= 1 and window_s > 0")
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._booked: dict[str, deque[float]] = {}
        # Sender threads may share one limiter; booking must be atomic.
        self._lock = threading.Lock()

    def reserve(self, mailbox: str) -> float:
        """Book a send for ``mailbox``; seconds to wait before sending (0.0 when free)."""
        now = self._clock()
        with self._lock:
            booked = self._booked.setdefault(mailbox.lower(), deque(maxlen=self.limit))
            at = now
            if len(booked) == self.limit:
                at = max(now, booked[0] + self.window_s)
            booked.append(at)
        return at - now

    def next_wait(self, mailbox: str) -> float:
        """What :meth:`reserve` would answer now, without booking (for metrics and health)."""
        now = self._clock()
        with self._lock:
            booked = self._booked.get(mailbox.lower())
            if booked is None or len(booked) < self.limit:
                return 0.0
            return max(0.0, booked[0] + self.window_s - now)
