"""Mail published and not yet processed, per mailbox, for this process's lifetime.

A delta round (or a full resync after 410) may return a mail that is already on its way
through the ticketer; publishing it again would only cost work. The set is in memory: after
a restart the ticketer's idempotency absorbs the repeats.
"""

from __future__ import annotations

import threading


class InFlight:
    """Thread-safe: the pollers add, the processed consumer removes."""

    def __init__(self) -> None:
        self._ids: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def __contains__(self, key: tuple[str, str]) -> bool:
        mailbox, message_id = key
        with self._lock:
            return message_id in self._ids.get(mailbox, ())

    def add(self, mailbox: str, message_id: str) -> None:
        with self._lock:
            self._ids.setdefault(mailbox, set()).add(message_id)

    def discard(self, mailbox: str, message_id: str) -> None:
        with self._lock:
            self._ids.get(mailbox, set()).discard(message_id)

    def count(self, mailbox: str) -> int:
        with self._lock:
            return len(self._ids.get(mailbox, ()))
