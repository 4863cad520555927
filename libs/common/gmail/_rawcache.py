"""The raw messages read last, kept a little while: the fetcher reads a message (its raw
MIME, 5 units) and then its attachments or MIME, which are in the same bytes. A message's
raw MIME never changes at Gmail, so the only thing to forget is a message removed."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

#: Bytes of base64url text kept at most (the oldest go first).
MAX_BYTES = 32 * 1024 * 1024


class RawCache:
    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._bytes = 0
        self._max = max_bytes
        self._lock = threading.Lock()

    @staticmethod
    def _size(resource: dict[str, Any]) -> int:
        return len(str(resource.get("raw", "")))

    def put(self, message_id: str, resource: dict[str, Any]) -> None:
        if self._size(resource) > self._max:
            return
        with self._lock:
            self._drop(message_id)
            self._items[message_id] = resource
            self._bytes += self._size(resource)
            while self._bytes > self._max:
                self._drop(next(iter(self._items)))

    def get(self, message_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._items.get(message_id)
            if found is not None:
                self._items.move_to_end(message_id)
            return found

    def forget(self, message_id: str) -> None:
        with self._lock:
            self._drop(message_id)

    def _drop(self, message_id: str) -> None:
        gone = self._items.pop(message_id, None)
        if gone is not None:
            self._bytes -= self._size(gone)
