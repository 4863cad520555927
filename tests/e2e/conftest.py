"""Fixtures of the end-to-end tests: the mail provider of the parametrised scenarios, and the
sender's (sender processes against the provider's simulator)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from libs.common.broker import Broker, Names
from tests.e2e.harness import open_world
from tests.e2e.worlds import PROVIDERS, MailWorld
from tests.integration.test_sender_support import MAILBOX, Results


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


@pytest.fixture
def send_world(
    provider: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[MailWorld]:
    """The sender tests' mailbox (``MAILBOX``) on the provider's simulator: the session's Graph
    simulator, reset (the ``sim`` fixture), or a Gmail simulator of the test's own."""
    sim = request.getfixturevalue("sim") if provider == "microsoft" else None
    with ExitStack() as cleanup:
        yield open_world(cleanup, provider, sim, tmp_path, (MAILBOX,))
