"""The in-process retry tiers of the memory:// mode release messages in due order, and lose
none when sending fails."""

from __future__ import annotations

from typing import Any

import pytest

from libs.common.broker.delayed import DelayedRetries


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_releases_due_messages_in_due_order() -> None:
    clock = Clock()
    delayed = DelayedRetries(clock)
    delayed.push(5, b"late", {}, {"n": 2})
    delayed.push(1, b"early", {}, {"n": 1})
    sent: list[bytes] = []

    def send(body: bytes, props: dict[str, Any], headers: dict[str, Any]) -> None:
        sent.append(body)

    assert delayed.release(send) == 0
    clock.now += 1
    assert delayed.release(send) == 1
    clock.now += 4
    delayed.release(send)
    assert sent == [b"early", b"late"]
    assert len(delayed) == 0


def test_everything_releases_before_due() -> None:
    delayed = DelayedRetries(Clock())
    delayed.push(60, b"a", {}, {})
    delayed.push(30, b"b", {}, {})
    sent: list[bytes] = []
    assert delayed.release(lambda b, p, h: sent.append(b), everything=True) == 2
    assert sent == [b"b", b"a"]


def test_a_failed_send_keeps_the_message() -> None:
    delayed = DelayedRetries(Clock())
    delayed.push(0, b"a", {}, {})

    def broken(body: bytes, props: dict[str, Any], headers: dict[str, Any]) -> None:
        raise ConnectionError("gone")

    with pytest.raises(ConnectionError):
        delayed.release(broken)
    assert len(delayed) == 1
    sent: list[bytes] = []
    delayed.release(lambda b, p, h: sent.append(b))
    assert sent == [b"a"]
