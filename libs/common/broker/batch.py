"""Batches for the consumer loop: collecting deliveries, and calling a handler on them.

The loop (``consumer.py``) always works in batches; ``Broker.consume`` is a batch of one that
starts at once, ``Broker.consume_batch`` collects up to ``max_batch`` deliveries and waits at
most ``max_wait_s`` after the first for more. Plain data and a clock: no broker I/O here.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from libs.common.broker.policy import Delivery

C = TypeVar("C")
M = TypeVar("M")

#: One call with every valid item of a batch; one result per item in the same order
#: (``None``: done, an exception: that item failed and is retried or dead-lettered).
BatchHandler = Callable[[list[tuple[C, Delivery]]], list[BaseException | None]]
#: The single-message handler of ``Broker.consume``.
Handler = Callable[[C, Delivery], None]


class HandlerResultError(RuntimeError):
    """A batch handler returned the wrong number of results (a bug in the handler)."""


@dataclass(frozen=True)
class BatchSettings:
    max_batch: int = 1
    max_wait_s: float = 0.0
    #: Batches handled at once, each on its own worker thread.
    workers: int = 1

    def __post_init__(self) -> None:
        if self.max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.max_wait_s < 0:
            raise ValueError("max_wait_s must not be negative")


class Pending(Generic[M]):
    """Deliveries waiting for the worker, with when each arrived (the batch window)."""

    def __init__(self, settings: BatchSettings, clock: Callable[[], float] = time.monotonic):
        self._settings = settings
        self._clock = clock
        self._items: deque[tuple[float, M]] = deque()

    def __len__(self) -> int:
        return len(self._items)

    def append(self, message: M) -> None:
        self._items.append((self._clock(), message))

    def ready(self) -> bool:
        """A full batch is here, or the oldest message has waited long enough."""
        if not self._items:
            return False
        if len(self._items) >= self._settings.max_batch:
            return True
        return self._clock() - self._items[0][0] >= self._settings.max_wait_s

    def wait_left_s(self) -> float | None:
        """How long until :meth:`ready` turns true by the clock (``None``: nothing pending)."""
        if not self._items:
            return None
        return max(0.0, self._settings.max_wait_s - (self._clock() - self._items[0][0]))

    def take(self, *, until: Callable[[M], bool] | None = None) -> list[M]:
        """Up to ``max_batch`` messages, oldest first; with ``until``, stopping before the
        first message (after the first) for which it holds."""
        out: list[M] = []
        while self._items and len(out) < self._settings.max_batch:
            if out and until is not None and until(self._items[0][1]):
                break
            out.append(self._items.popleft()[1])
        return out

    def peek(self) -> M | None:
        """The oldest message, left in place."""
        return self._items[0][1] if self._items else None

    def take_one(self) -> list[M]:
        return [self._items.popleft()[1]] if self._items else []

    def clear(self) -> list[M]:
        out = [message for _, message in self._items]
        self._items.clear()
        return out


def single(handler: Handler[C]) -> BatchHandler[C]:
    """A single-message handler as a batch handler (the loop gives it batches of one)."""

    def run(items: list[tuple[C, Delivery]]) -> list[BaseException | None]:
        results: list[BaseException | None] = []
        for payload, delivery in items:
            try:
                handler(payload, delivery)
            except BaseException as exc:  # classified by the loop, never escapes
                results.append(exc)
            else:
                results.append(None)
        return results

    return run


def call(handler: BatchHandler[C], items: list[tuple[C, Delivery]]) -> list[BaseException | None]:
    """Run ``handler`` once; a handler that raises fails every item with that exception."""
    if not items:
        return []
    try:
        results: Sequence[BaseException | None] = handler(items)
    except BaseException as exc:
        return [exc] * len(items)
    if len(results) != len(items):
        error = HandlerResultError(
            f"batch handler returned {len(results)} results for {len(items)} messages"
        )
        return [error] * len(items)
    return list(results)
