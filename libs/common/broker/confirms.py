"""Publisher confirms for pipelined publishing: count what was sent, wait for what is owed.

RabbitMQ numbers the messages of a confirm-mode channel 1, 2, 3 … and acks (or nacks) them,
one at a time or ``multiple`` up to a tag. Publishing a batch and then waiting once for every
confirm costs one round trip per batch instead of one per message. :class:`Confirms` listens
to a py-amqp channel's ``basic_ack`` / ``basic_nack`` events and keeps the set of tags not yet
confirmed; it sees the confirms of single, waited-for publishes too, so both kinds mix.
"""

from __future__ import annotations

import time
from typing import Any

from amqp.exceptions import MessageNacked


class Confirms:
    """Tags of one channel's publishes that the broker has not confirmed yet."""

    def __init__(self, channel: Any) -> None:
        self._channel = channel
        self._sent = 0
        self._owed: set[int] = set()
        self._nacked = 0
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)

    def select(self) -> None:
        """Turn confirm mode on (once per channel; py-amqp does it on its first confirmed
        publish, and both ways share its flag)."""
        if not self._channel._confirm_selected:
            self._channel._confirm_selected = True
            self._channel.confirm_select()

    def sent(self) -> int:
        """One more publish on the channel (waited for or not): its delivery tag."""
        self._sent += 1
        return self._sent

    def owe(self, tag: int) -> None:
        self._owed.add(tag)

    def wait(self, timeout_s: float) -> None:
        """Until every owed tag is confirmed. Raises :class:`MessageNacked` when the broker
        refused any of them, ``TimeoutError`` when the confirms do not come in time."""
        deadline = time.monotonic() + timeout_s
        try:
            while self._owed:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self._owed)} publisher confirm(s) did not come")
                self._channel.connection.drain_events(timeout=left)
            if self._nacked:
                raise MessageNacked(f"the broker refused {self._nacked} message(s)")
        finally:
            self._owed.clear()
            self._nacked = 0

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._nacked += self._settle(delivery_tag, multiple)

    def _settle(self, tag: int, multiple: bool) -> int:
        if not multiple:
            if tag in self._owed:
                self._owed.discard(tag)
                return 1
            return 0
        done = {t for t in self._owed if t <= tag}
        self._owed -= done
        return len(done)
