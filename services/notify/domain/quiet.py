"""Rate-limited logging of rejected notifications: a forger's flood must not become one log
line per POST. Per kind of rejection (``bad_client_state``, ``unknown_subscription``, a full
queue), at most one line per ``every_s``; that line says how many were left unlogged since the
last one. The counts are all in the metrics (``mailpipe_notify_notifications_total``)."""

from __future__ import annotations

#: Seconds between two log lines of one kind of rejection.
LOG_EVERY_S = 60.0


class LogBudget:
    """Not thread-safe by itself: the endpoint's worker is its only caller."""

    def __init__(self, every_s: float = LOG_EVERY_S) -> None:
        self.every_s = every_s
        self._last: dict[str, float] = {}
        self._quiet: dict[str, int] = {}

    def allow(self, key: str, now: float) -> int | None:
        """None while ``key`` is quiet (this one is counted); else the number left unlogged
        since the last line, and this one is to be logged (``now``: monotonic seconds)."""
        last = self._last.get(key)
        if last is not None and now - last < self.every_s:
            self._quiet[key] = self._quiet.get(key, 0) + 1
            return None
        self._last[key] = now
        return self._quiet.pop(key, 0)
