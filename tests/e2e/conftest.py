"""Fixtures of the end-to-end tests: the mail provider of the parametrised scenarios, its
world for the sender processes, and the sender's broker and results."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from libs.common.broker import Broker, Names
from libs.gmailsim.testing import running_simulator as running_gmailsim
from tests.e2e.worlds import PROVIDERS, GmailWorld, GraphWorld, MailWorld
from tests.graphsim_fixtures import SIM_MAILBOXES
from tests.integration.test_sender_support import Results


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> str:
    """The mail provider a scenario runs against: each test using it runs once on the Graph
    simulator and once on the Gmail simulator (``pipeline(..., provider=provider)``)."""
    return str(request.param)


@pytest.fixture
def world(provider: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MailWorld]:
    """The provider's simulator for the sender processes, with the same mailboxes on both:
    the session's Graph simulator (reset), or a Gmail simulator of the test's own."""
    if provider == "microsoft":
        yield GraphWorld(request.getfixturevalue("sim"))
        return
    with running_gmailsim(tmp_path / "gmailsim", SIM_MAILBOXES) as sim:
        yield GmailWorld(sim)


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
