"""Fixtures shared by the sender's integration tests (a module may define its own ``broker``,
which then wins)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from libs.common.broker import Broker
from tests.broker_helpers import namespaced_broker
from tests.integration.test_sender_support import Results


@pytest.fixture
def broker(amqp_url: str, namespace: str) -> Iterator[Broker]:
    """A broker on RabbitMQ in the test's own namespace."""
    with namespaced_broker(amqp_url, namespace) as b:
        yield b


@pytest.fixture
def results(broker: Broker) -> Iterator[Results]:
    """The ``OutboundResult``s the sender publishes, read from a queue of the test's own."""
    reader = Results(broker)
    yield reader
    reader.delete()
