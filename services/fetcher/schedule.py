"""The pollers' rounds, run by a few threads instead of one thread per mailbox.

A fetcher may serve a thousand mailboxes. A thread each would start a thousand rounds at the
same moment every poll interval, each holding its pages and mails at once: the memory peak of
the process grows with the number of mailboxes. Here ``threads`` workers share one timetable
(a heap of when each mailbox is due): a worker takes the mailbox due first, waits for its time,
runs one turn (:meth:`MailboxPoller.turn`) and puts it back at the time the turn asks for.

A hint (push, docs/push.md) moves a mailbox's turn to now (:meth:`PollSchedule.hurry`),
bounded per mailbox; hints while its turn runs are one more turn right after it.

Up to ``threads`` mailboxes this is exactly a thread per mailbox. Beyond, a mailbox waits for a
free worker when every worker is busy: with Graph's 0.1 to 1 s per round, 50 workers poll 1,000
mailboxes every 30 s with room to spare, and a slow mailbox holds one worker, not the others.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import structlog

from services.fetcher.domain.push import hurried_due

log = structlog.get_logger("services.fetcher")

#: Workers per fetcher, unless configured: a thread per mailbox up to this many mailboxes.
POLL_THREADS = 50
#: How often a waiting worker looks at the stop signal.
WAKE_S = 0.5


class Turn(Protocol):
    """A mailbox's turn: one round when it is due; seconds until its next turn."""

    @property
    def address(self) -> str: ...

    def turn(self) -> float: ...


class PollSchedule:
    def __init__(
        self,
        pollers: Sequence[Turn],
        *,
        threads: int = POLL_THREADS,
        ticks: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ticks = ticks
        self._order = itertools.count()
        now = ticks()
        # (due, tie-breaker, poller): every mailbox is due at once when the fetcher starts.
        self._due: list[tuple[float, int, Turn]] = [(now, next(self._order), p) for p in pollers]
        heapq.heapify(self._due)
        self._cond = threading.Condition()
        self.threads = max(1, min(threads, len(pollers)))
        #: Pollers taken out while a worker runs their turn: not put back (by identity), or
        #: put back as their successor.
        self._retired: set[int] = set()
        self._successors: dict[int, Turn] = {}
        #: Mailboxes whose next turn a hint asked for; hinted while their turn ran; when
        #: their last hint-asked turn was due.
        self._hinted: set[str] = set()
        self._again: set[str] = set()
        self._hurried_at: dict[str, float] = {}
        self._running: set[str] = set()
        #: Told before each turn whether a hint asked for it (push's metrics).
        self.on_turn: Callable[[str, bool], None] | None = None

    def add(self, poller: Turn) -> None:
        """A mailbox to poll from now on, due at once."""
        self._put(poller, 0.0)

    def retire(self, poller: Turn) -> None:
        """No turn of ``poller`` starts any more; one running now finishes."""
        with self._cond:
            kept = [entry for entry in self._due if entry[2] is not poller]
            if len(kept) == len(self._due):
                self._retired.add(id(poller))
            self._due = kept
            heapq.heapify(self._due)

    def worker(self, stop: threading.Event) -> None:
        """Run due turns until ``stop`` is set; no error ends it (a turn logs its own)."""
        while True:
            poller = self._take(stop)
            if poller is None:
                return
            self._tell(poller.address)
            try:
                delay = poller.turn()
            except Exception:  # a turn never raises; if it does, the mailbox is not dropped
                log.exception("poll turn failed", mailbox=poller.address)
                delay = WAKE_S
            self._put(poller, delay)

    def hurry(self, address: str) -> None:
        """A hint: ``address``'s next turn now, or (its turn runs) once more right after."""
        with self._cond:
            for index, (due, order, poller) in enumerate(self._due):
                if poller.address == address:
                    self._due[index] = (self._hurried(address, due), order, poller)
                    heapq.heapify(self._due)
                    self._cond.notify()
                    return
            if address in self._running:  # else not ours to poll: nothing to do
                self._again.add(address)

    def _hurried(self, address: str, due: float) -> float:
        """``due`` moved by a hint (under the lock); the same when it changes nothing."""
        when = hurried_due(self._ticks(), due, self._hurried_at.get(address))
        if when is None:
            return due
        self._hurried_at[address] = when
        self._hinted.add(address)
        return when

    def _tell(self, address: str) -> None:
        with self._cond:
            hinted = address in self._hinted
            self._hinted.discard(address)
        if self.on_turn is not None:
            self.on_turn(address, hinted)

    def _take(self, stop: threading.Event) -> Turn | None:
        with self._cond:
            while not stop.is_set():
                if self._due:
                    due, _, poller = self._due[0]
                    wait = due - self._ticks()
                    if wait <= 0:
                        heapq.heappop(self._due)
                        self._running.add(poller.address)
                        return poller
                else:
                    wait = WAKE_S  # every mailbox is out with a worker
                self._cond.wait(min(wait, WAKE_S))
            return None

    def replace(self, old: Turn, new: Turn) -> None:
        """``new`` takes ``old``'s place: its next turn when ``old``'s was due, or, when a
        worker runs ``old`` now, when that turn asks for (never two turns at once)."""
        with self._cond:
            for index, (due, order, poller) in enumerate(self._due):
                if poller is old:
                    self._due[index] = (due, order, new)  # same key: still a heap
                    return
            self._successors[id(old)] = new

    def _put(self, poller: Turn, delay: float) -> None:
        with self._cond:
            poller = self._successors.pop(id(poller), poller)
            if id(poller) in self._retired:
                self._retired.discard(id(poller))
                return
            self._running.discard(poller.address)
            due = self._ticks() + delay
            if poller.address in self._again:
                self._again.discard(poller.address)
                due = self._hurried(poller.address, due)
            heapq.heappush(self._due, (due, next(self._order), poller))
            self._cond.notify()
