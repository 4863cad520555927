"""write_publishes: a batch written as py-amqp's _basic_publish writes each message, with
its blocked-notice read once per batch."""

from __future__ import annotations

from typing import Any

import pytest
from amqp import spec
from amqp.exceptions import RecoverableConnectionError

from libs.common.broker.frames import write_publishes


class FakeConnection:
    def __init__(self, *, blocked_capability: bool = True, open_: bool = True) -> None:
        self.client_properties = {"capabilities": {"connection.blocked": blocked_capability}}
        self.drains: list[float | None] = []
        self._open = open_

    def __bool__(self) -> bool:
        return self._open

    def drain_events(self, timeout: float | None = None) -> None:
        self.drains.append(timeout)
        raise TimeoutError  # nothing has come, as a socket read with timeout 0 says


class FakeChannel:
    def __init__(self, connection: FakeConnection, *, fail_at: int | None = None) -> None:
        self.connection = connection
        self.written: list[tuple[Any, ...]] = []
        self._fail_at = fail_at

    def send_method(self, method: Any, argsig: str, args: tuple[Any, ...], content: Any) -> None:
        if self._fail_at is not None and len(self.written) == self._fail_at:
            raise TimeoutError
        self.written.append((method, argsig, args, content))


def test_every_message_is_written_as_basic_publish_and_the_drain_is_once() -> None:
    channel = FakeChannel(FakeConnection())
    sent: list[int] = []
    batch = [(f"m{n}", "ex", f"key.{n}", n % 2 == 0) for n in range(5)]
    write_publishes(channel, batch, lambda: sent.append(len(channel.written)))
    assert channel.written == [
        (spec.Basic.Publish, "Bssbb", (0, "ex", f"key.{n}", n % 2 == 0, False), f"m{n}")
        for n in range(5)
    ]
    assert sent == [1, 2, 3, 4, 5], "sent() after each message is written"
    assert channel.connection.drains == [0]


def test_no_blocked_capability_no_read() -> None:
    channel = FakeChannel(FakeConnection(blocked_capability=False))
    write_publishes(channel, [("m", "ex", "k", True)], lambda: None)
    assert channel.connection.drains == [] and len(channel.written) == 1


def test_a_closed_connection_and_a_write_timeout_are_connection_errors() -> None:
    with pytest.raises(RecoverableConnectionError, match="connection closed"):
        closed = FakeChannel(FakeConnection(open_=False))
        write_publishes(closed, [("m", "", "k", True)], lambda: None)
    channel = FakeChannel(FakeConnection(), fail_at=1)
    with pytest.raises(RecoverableConnectionError, match="timed out"):
        write_publishes(channel, [("a", "", "k", True), ("b", "", "k", True)], lambda: None)
    assert [w[3] for w in channel.written] == ["a"]
