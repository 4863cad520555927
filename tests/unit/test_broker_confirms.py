"""``Confirms``: which publishes the broker still owes a confirm for, without a broker."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from amqp.exceptions import MessageNacked

from libs.common.broker.confirms import Confirms


class FakeChannel:
    """Delivers queued (kind, tag, multiple) confirms when the connection is drained."""

    def __init__(self) -> None:
        self.events: defaultdict[str, set[Callable[..., Any]]] = defaultdict(set)
        self._confirm_selected = False
        self.selects = 0
        self.queued: list[tuple[str, int, bool]] = []
        self.connection = self

    def confirm_select(self) -> None:
        self.selects += 1

    def drain_events(self, timeout: float) -> None:
        if not self.queued:
            raise TimeoutError("nothing to read")
        kind, tag, multiple = self.queued.pop(0)
        for callback in list(self.events[f"basic_{kind}"]):
            callback(tag, multiple)


def _owe(confirms: Confirms, count: int) -> list[int]:
    tags = [confirms.sent() for _ in range(count)]
    for tag in tags:
        confirms.owe(tag)
    return tags


def test_select_turns_confirm_mode_on_once() -> None:
    channel = FakeChannel()
    confirms = Confirms(channel)
    confirms.select()
    confirms.select()
    assert channel.selects == 1


def test_single_and_multiple_acks_settle_every_owed_tag() -> None:
    channel = FakeChannel()
    confirms = Confirms(channel)
    confirms.sent()  # a waited-for publish earlier on the channel: tag 1
    assert _owe(confirms, 5) == [2, 3, 4, 5, 6]
    channel.queued = [("ack", 1, False), ("ack", 4, True), ("ack", 6, False), ("ack", 5, False)]
    confirms.wait(1.0)
    assert channel.queued == []


def test_a_nack_among_the_confirms_raises() -> None:
    channel = FakeChannel()
    confirms = Confirms(channel)
    _owe(confirms, 3)
    channel.queued = [("ack", 1, False), ("nack", 3, True)]
    with pytest.raises(MessageNacked):
        confirms.wait(1.0)
    # Nothing is owed any more: the next batch starts clean.
    _owe(confirms, 1)
    channel.queued = [("ack", 4, False)]
    confirms.wait(1.0)


def test_missing_confirms_time_out() -> None:
    channel = FakeChannel()
    confirms = Confirms(channel)
    _owe(confirms, 2)
    channel.queued = [("ack", 1, False)]
    with pytest.raises(TimeoutError):
        confirms.wait(1.0)
