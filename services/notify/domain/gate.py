"""The bound on hints per mailbox: a flood of notifications, forged or replayed, costs at most
one hint per mailbox per ``spacing_s`` (docs/push.md, "What a notification can do").

A notification within the spacing is not dropped but deferred: one trailing hint goes out when
the spacing ends. Dropping it would lose real mail: the round of the hint before may have run
before that mail arrived, and nothing else would announce it until the safety round."""

from __future__ import annotations

#: Seconds between two hints of one mailbox from one endpoint.
HINT_SPACING_S = 1.0
#: Mailboxes remembered at most; beyond, the oldest are forgotten (their next hint passes).
MAX_REMEMBERED = 10_000


class HintGate:
    """Not thread-safe by itself: the endpoint calls it under its own lock."""

    def __init__(self, spacing_s: float = HINT_SPACING_S) -> None:
        self.spacing_s = spacing_s
        #: When the last hint of each key went or goes out (later than now: one is deferred).
        self._last: dict[str, float] = {}

    def delay(self, mailbox: str, now: float) -> float | None:
        """When a hint of ``mailbox`` goes out, seen at ``now`` (monotonic seconds): 0.0 at
        once, a delay for the spacing's one trailing hint, None when that one is already
        due (this notification is covered by it)."""
        last = self._last.get(mailbox)
        if last is not None and last > now:
            return None
        at = now if last is None or now - last >= self.spacing_s else last + self.spacing_s
        self._last.pop(mailbox, None)  # re-inserted last: the dict stays oldest-first
        self._last[mailbox] = at
        if len(self._last) > MAX_REMEMBERED:
            del self._last[next(iter(self._last))]
        return at - now
