"""Which mailboxes this fetcher may poll now: the state of its mailbox leases, without the
broker client (the session that fills it is :mod:`libs.common.broker.lease`).

A mailbox is *held* while the lease session holds the mailbox's token **and** has heard from
the broker within ``stale_after_s``. The second half is what keeps two fetchers from polling
one mailbox: the broker hands the token to another fetcher only after it has given this
connection up, which takes at least one heartbeat timeout of silence; this side stops
counting itself the holder after less than that (docs/fetcher.md, "Several fetchers").

Pollers ask through :meth:`LeaseBook.round` (a round starts only on a held mailbox and is
counted while it runs); the session, on stop, waits for the counted rounds before it gives
the tokens back, so that a graceful stop never overlaps with the next holder's first round.
A mailbox being handed back to share the work (:meth:`LeaseBook.release`) is no longer held
either, and its token goes only once its rounds are done (:meth:`LeaseBook.busy`).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol


class Lease(Protocol):
    """What a poller asks before each round."""

    def wait(self, mailbox: str, stop: threading.Event, timeout_s: float) -> bool:
        """Wait until ``mailbox`` is held (True), ``stop`` is set or ``timeout_s`` passed."""
        ...

    def keeps(self, mailbox: str) -> bool:
        """The mailbox's token is in hand and not being handed back, fresh or not: what a
        long-lived resource of the mailbox (its push subscription) follows, so a moment of
        broker silence on a busy machine does not end it."""
        ...

    def round(self, mailbox: str) -> AbstractContextManager[bool]:
        """Yields whether the round may run (the mailbox is held); counted while it runs."""
        ...


class Unshared:
    """One fetcher alone (the embedded mode): every mailbox is always its own."""

    def wait(self, mailbox: str, stop: threading.Event, timeout_s: float) -> bool:
        return not stop.is_set()

    def keeps(self, mailbox: str) -> bool:
        return True

    @contextmanager
    def round(self, mailbox: str) -> Iterator[bool]:
        yield True


class LeaseBook:
    """Thread-safe: the lease session writes, the pollers read."""

    def __init__(self, stale_after_s: float, ticks: Callable[[], float] = time.monotonic) -> None:
        self._stale_after_s = stale_after_s
        self._ticks = ticks
        self._cond = threading.Condition()
        self._tokens: set[str] = set()
        self._fresh_until = 0.0
        self._rounds: Counter[str] = Counter()
        self._releasing: set[str] = set()
        self._closing = False

    # -- the lease session's side --------------------------------------------------------

    def granted(self, mailbox: str) -> None:
        """The broker delivered the mailbox's token: this fetcher is its active consumer."""
        with self._cond:
            self._tokens.add(mailbox)
            self._cond.notify_all()

    def heard(self) -> None:
        """Something arrived from the broker just now (a frame or a heartbeat)."""
        with self._cond:
            was_fresh = self._fresh()
            self._fresh_until = self._ticks() + self._stale_after_s
            if not was_fresh:
                self._cond.notify_all()

    def lost(self) -> None:
        """The lease connection is gone: the broker gives every token to someone else."""
        with self._cond:
            self._tokens.clear()
            self._releasing.clear()
            self._fresh_until = 0.0

    def release(self, mailbox: str) -> None:
        """The mailbox is to be handed back: no new round starts on it."""
        with self._cond:
            self._releasing.add(mailbox)
            self._cond.notify_all()

    def releasing(self) -> frozenset[str]:
        with self._cond:
            return frozenset(self._releasing)

    def busy(self, mailbox: str) -> bool:
        """A round of this mailbox is running."""
        with self._cond:
            return self._rounds[mailbox] > 0

    def dropped(self, mailbox: str) -> None:
        """The mailbox's token was handed back."""
        with self._cond:
            self._tokens.discard(mailbox)
            self._releasing.discard(mailbox)

    def close(self) -> None:
        """Stopping: no new round starts; waiting pollers wake up."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()

    def reopen(self) -> None:
        with self._cond:
            self._closing = False

    def idle(self) -> bool:
        """No round is running."""
        with self._cond:
            return not +self._rounds

    def tokens(self) -> frozenset[str]:
        """The mailboxes whose token is in hand (stale or not)."""
        with self._cond:
            return frozenset(self._tokens)

    # -- the pollers' side ---------------------------------------------------------------

    def held(self, mailbox: str) -> bool:
        with self._cond:
            return self._held(mailbox)

    def keeps(self, mailbox: str) -> bool:
        with self._cond:
            return mailbox in self._tokens and mailbox not in self._releasing

    def wait(self, mailbox: str, stop: threading.Event, timeout_s: float) -> bool:
        with self._cond:
            self._cond.wait_for(
                lambda: stop.is_set() or self._closing or self._held(mailbox), timeout_s
            )
            return not stop.is_set() and self._held(mailbox)

    @contextmanager
    def round(self, mailbox: str) -> Iterator[bool]:
        with self._cond:
            ours = self._held(mailbox)
            if ours:
                self._rounds[mailbox] += 1
        try:
            yield ours
        finally:
            if ours:
                with self._cond:
                    self._rounds[mailbox] -= 1
                    self._cond.notify_all()

    def _held(self, mailbox: str) -> bool:
        return (
            not self._closing
            and mailbox in self._tokens
            and mailbox not in self._releasing
            and self._fresh()
        )

    def _fresh(self) -> bool:
        return self._ticks() < self._fresh_until
