"""Fixtures of the sender's end-to-end tests (sender processes against the simulator)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from libs.common.broker import Broker, Names
from tests.integration.test_sender_support import Results


@pytest.fixture
def broker(amqp_url: str, namespace: str) -> Iterator[Broker]:
    # The processes use the default retry tiers; the test declares the same topology so it
    # can publish before they are up.
    b = Broker(amqp_url, Names(namespace))
    b.declare()
    try:
        yield b
    finally:
        b.close()
        b.delete()


@pytest.fixture
def results(broker: Broker) -> Iterator[Results]:
    """Every ``OutboundResult`` the senders publish, read from a queue of the test's own."""
    reader = Results(broker)
    yield reader
    reader.delete()
