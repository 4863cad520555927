"""Retry tiers for kombu's ``memory://`` transport, which has neither TTL nor dead-lettering:
the consumer keeps a retried message here and republishes it to its work queue when due.

Plain data and a clock; the consumer loop calls :meth:`DelayedRetries.release` on its own
connection thread. The messages live in process memory, like everything in the embedded mode.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Send = Callable[[bytes, dict[str, Any], dict[str, Any]], None]


@dataclass(order=True)
class _Delayed:
    due: float
    seq: int
    body: bytes = field(compare=False)
    properties: dict[str, Any] = field(compare=False)
    headers: dict[str, Any] = field(compare=False)


class DelayedRetries:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._heap: list[_Delayed] = []
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def push(
        self, delay_s: float, body: bytes, properties: dict[str, Any], headers: dict[str, Any]
    ) -> None:
        item = _Delayed(self._clock() + delay_s, next(self._seq), body, properties, headers)
        heapq.heappush(self._heap, item)

    def release(self, send: Send, *, everything: bool = False) -> int:
        """Send every due message (every message, with ``everything``), in due order.

        A message leaves the heap only after ``send`` returned: if it raises, nothing is lost.
        """
        now = self._clock()
        sent = 0
        while self._heap and (everything or self._heap[0].due <= now):
            item = self._heap[0]
            send(item.body, item.properties, item.headers)
            heapq.heappop(self._heap)
            sent += 1
        return sent
