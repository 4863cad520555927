"""Exchange's sending limit (30 messages a minute per mailbox), shared by every sender.

The slots a mailbox has used live in the database (``send_slots``, one row per send, its time
the END of the send); :mod:`services.sender.sendrate` reads them under a lock and asks
:func:`slot_wait` whether one more may go now. Plain arithmetic over times in seconds, from
one clock (the database's), so that several senders on several hosts agree.

A send may go when fewer than ``limit`` sends lie in the last ``window_s``; otherwise it waits
until the oldest of them leaves the window, and asks again (the slots may have moved: a send
still in flight is stamped again when it ends). Since each send is counted where it ended,
no window of ``window_s`` at Exchange holds more than ``limit`` of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

EXCHANGE_MESSAGES_PER_MINUTE = 30
EXCHANGE_WINDOW_S = 60.0


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` sends per mailbox in any ``window_s`` seconds."""

    limit: int = EXCHANGE_MESSAGES_PER_MINUTE
    window_s: float = EXCHANGE_WINDOW_S

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window_s <= 0:
            raise ValueError("limit must be >= 1 and window_s > 0")

    def cutoff(self, now: float) -> float:
        """Slots at or before this time no longer count."""
        return now - self.window_s


def slot_wait(slot_times: Iterable[float], now: float, rate: RateLimit) -> float:
    """Seconds until the mailbox may take one more slot (0.0: now), given its slots' times."""
    counted = sorted(t for t in slot_times if t > rate.cutoff(now))
    if len(counted) < rate.limit:
        return 0.0
    # The slot that must leave the window so that only limit - 1 remain.
    leaving = counted[len(counted) - rate.limit]
    # Never 0.0 when full (rounding): 0.0 means "take it".
    return max(leaving + rate.window_s - now, 0.001)
