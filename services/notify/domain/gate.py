"""The bound on hints per mailbox: a flood of notifications, forged or replayed, costs at most
one hint per mailbox per ``spacing_s`` (docs/push.md, "What a notification can do")."""

from __future__ import annotations

#: Seconds between two hints of one mailbox from one endpoint.
HINT_SPACING_S = 1.0
#: Mailboxes remembered at most; beyond, the oldest are forgotten (their next hint passes).
MAX_REMEMBERED = 10_000


class HintGate:
    """Not thread-safe by itself: the endpoint calls it under its own lock."""

    def __init__(self, spacing_s: float = HINT_SPACING_S) -> None:
        self.spacing_s = spacing_s
        self._last: dict[str, float] = {}

    def allow(self, mailbox: str, now: float) -> bool:
        """Whether a hint of ``mailbox`` goes out at ``now`` (monotonic seconds)."""
        last = self._last.get(mailbox)
        if last is not None and now - last < self.spacing_s:
            return False
        self._last.pop(mailbox, None)  # re-inserted last: the dict stays oldest-first
        self._last[mailbox] = now
        if len(self._last) > MAX_REMEMBERED:
            del self._last[next(iter(self._last))]
        return True
