"""Fixtures of the end-to-end tests: the mail provider of the parametrised scenarios, and the
sender's (sender processes against the simulator)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from libs.common.broker import Broker, Names
from tests.e2e.worlds import PROVIDERS
from tests.integration.test_sender_support import Results


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> str:
    """The mail provider a scenario runs against: each test using it runs once on the Graph
    simulator and once on the Gmail simulator (``pipeline(..., provider=provider)``)."""
    return str(request.param)


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
