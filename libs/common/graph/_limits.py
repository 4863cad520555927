"""Per-mailbox limits Exchange enforces: 4 requests in flight, 10,000 per 10 minutes.

One :class:`MailboxGate` per mailbox and Graph endpoint in the process, shared by every
GraphMail of that mailbox (several services or threads may serve the same mailbox), so the
limits hold for the process as a whole and not per object.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

WINDOW_S = 600.0


class SlidingBudget:
    """At most ``limit`` events in any window of ``window_s``; callers wait rather than exceed."""

    def __init__(
        self,
        limit: int,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._stamps: deque[float] = deque()
        self._lock = threading.Lock()

    def try_take(self) -> float:
        """Take one slot and return 0, or return how long to wait before trying again."""
        with self._lock:
            now = self._clock()
            while self._stamps and self._stamps[0] <= now - self.window_s:
                self._stamps.popleft()
            if len(self._stamps) < self.limit:
                self._stamps.append(now)
                return 0.0
            return max(self._stamps[0] + self.window_s - now, 0.001)

    def take(self, sleep: Callable[[float], None] = time.sleep) -> float:
        """Take one slot, sleeping while the window is full; returns the time waited."""
        waited = 0.0
        while (wait := self.try_take()) > 0:
            sleep(wait)
            waited += wait
        return waited

    def used(self) -> int:
        with self._lock:
            return len(self._stamps)


class MailboxGate:
    """Concurrency cap and request budget for one mailbox."""

    def __init__(self, max_concurrency: int, budget_per_window: int) -> None:
        self.max_concurrency = max_concurrency
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self.budget = SlidingBudget(budget_per_window)
        self._in_flight = 0
        self.peak_in_flight = 0
        self._count_lock = threading.Lock()

    @contextmanager
    def slot(self, sleep: Callable[[float], None] = time.sleep) -> Iterator[None]:
        """Hold one of the mailbox's request slots for the duration of one HTTP exchange."""
        self.budget.take(sleep)
        with self._slots:
            with self._count_lock:
                self._in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
            try:
                yield
            finally:
                with self._count_lock:
                    self._in_flight -= 1


_gates: dict[tuple[str, str, int, int], MailboxGate] = {}
_gates_lock = threading.Lock()


def gate_for(base_url: str, mailbox: str, max_concurrency: int, budget: int) -> MailboxGate:
    """The process-wide gate of one mailbox at one Graph endpoint."""
    key = (base_url, mailbox.lower(), max_concurrency, budget)
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = MailboxGate(max_concurrency, budget)
        return gate
