"""Crash loops: a message whose handling ends the process comes back again and again.

Every return counts for each message that was unacked at the time, prefetched ones included,
so a crashing message would drag the whole prefetch window towards the broker's
``x-delivery-limit`` with it. Two defences, here and in the consumer loop:

- a session starts with prefetch 1 and widens to the configured prefetch at the first message
  that was never handed back: after a crash only the crashing message is in flight, and the
  mail behind it does not pile up returns;
- a message that was handed back before (a *suspect*) is handled alone, never in a batch and
  never beside another batch, so that the rest is settled without it.

After enough returns the loop gives a message up (``policy.crash_loop``), ``on_dead`` first.
"""

from __future__ import annotations

from typing import Any

from libs.common.broker import policy
from libs.common.broker.wire import redelivered


def is_suspect(message: Any) -> bool:
    """Handed back at least once (a crash, or a stop, while it was unacked)."""
    return policy.returns(message.headers or {}, redelivered(message)) > 0


class Prefetch:
    """One session's prefetch: narrow (1) until a clean message shows, then wide."""

    def __init__(self, channel: Any, consumer: Any, wide: int, *, memory: bool) -> None:
        self._channel = channel
        self._consumer = consumer
        self._wide = wide
        # kombu's memory transport: no crash can return a message to another process.
        self.narrow = not memory

    def start(self) -> None:
        """Set the session's first prefetch (per consumer, as quorum queues want) and consume."""
        self._channel.basic_qos(0, 1 if self.narrow else self._wide, False)
        self._consumer.consume()

    def widen(self) -> None:
        """The configured prefetch from now on. A consumer's prefetch is fixed when it
        starts, so it is cancelled and started again; its unacked messages stay ours."""
        if not self.narrow:
            return
        self.narrow = False
        self._consumer.cancel()
        self._channel.basic_qos(0, self._wide, False)
        self._consumer.consume()
