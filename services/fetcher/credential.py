"""A refused credential, per mailbox: when to ask again, and when to say so again.

Polled as usual, a refused credential (an expired or wrong secret) would ask Entra and log
on every poll: 52 lines in 25 s at a 1 s poll interval. Instead the wait doubles from the
poll interval up to :data:`CAP_S`; a refusal is logged at once when it is the first or it
changed (another code or hint), else at most once every :data:`LOG_EVERY_S`; the first
accepted attempt afterwards is logged once. The metric and readiness stay exact: every
attempt that is refused counts, and the mailbox reads "credential refused" all along.

Plain data; the clock is injected (monotonic seconds), so tests need no sleeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: The longest wait between two attempts with a refused credential.
CAP_S = 300.0
#: At most one log line per mailbox this often while the refusal stays the same.
LOG_EVERY_S = 60.0


@dataclass(frozen=True)
class Refusal:
    """What to do about one refused attempt."""

    #: Log it now (first, changed, or the last line is :data:`LOG_EVERY_S` old).
    log: bool
    #: Seconds until the next attempt.
    retry_in_s: float
    #: Refused attempts since the last line (not logged); 0 on a first or changed refusal.
    unlogged: int
    #: Refused attempts in a row, this one included.
    refusals: int


@dataclass
class CredentialBackoff:
    """Not thread-safe: one per poller thread."""

    #: The first wait (the mailbox's poll interval); it doubles with each refusal.
    base_s: float
    clock: Callable[[], float] = time.monotonic
    cap_s: float = CAP_S
    log_every_s: float = LOG_EVERY_S
    refusals: int = 0
    _retry_at: float = 0.0
    _logged_at: float | None = field(default=None, repr=False)
    _logged_key: object = field(default=None, repr=False)
    _unlogged: int = field(default=0, repr=False)

    @property
    def refused_now(self) -> bool:
        return self.refusals > 0

    def due(self) -> bool:
        """Whether an attempt may be made now (always, unless the credential is refused)."""
        return self.refusals == 0 or self.clock() >= self._retry_at

    def wait_s(self) -> float:
        """Seconds until the next attempt is due (0 when it is)."""
        return max(0.0, self._retry_at - self.clock()) if self.refusals else 0.0

    def refused(self, key: object) -> Refusal:
        """One more refused attempt; ``key`` is what the refusal says (code, hint), so that
        a change is logged at once."""
        now = self.clock()
        self.refusals += 1
        delay = min(self.cap_s, self.base_s * 2 ** min(self.refusals - 1, 30))
        self._retry_at = now + delay
        fresh = self._logged_at is None or key != self._logged_key
        stale = self._logged_at is not None and now - self._logged_at >= self.log_every_s
        if not (fresh or stale):
            self._unlogged += 1
            return Refusal(False, delay, self._unlogged, self.refusals)
        unlogged = 0 if fresh else self._unlogged
        self._logged_at, self._logged_key, self._unlogged = now, key, 0
        return Refusal(True, delay, unlogged, self.refusals)

    def accepted(self) -> int:
        """An attempt went through: the refusals in a row before it (0: nothing to report),
        and everything back to normal."""
        refusals = self.refusals
        self.refusals, self._retry_at = 0, 0.0
        self._logged_at, self._logged_key, self._unlogged = None, None, 0
        return refusals
