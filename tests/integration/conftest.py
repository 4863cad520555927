"""Fixtures shared by the integration tests: the sender's broker and results, the fetcher's rig
(a module may define its own fixture of the same name, which then wins)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from libs.common.broker import Broker
from libs.graphsim.testing import SimHandle
from tests.broker_helpers import namespaced_broker
from tests.integration.fetcher_rig import Rig, open_rig
from tests.integration.test_sender_support import Results


@pytest.fixture
def broker(amqp_url: str, namespace: str) -> Iterator[Broker]:
    """A broker on RabbitMQ in the test's own namespace."""
    with namespaced_broker(amqp_url, namespace) as b:
        yield b


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """The sender's job log (and records) in a SQLite file of the test's own."""
    return f"sqlite:///{tmp_path / 'mailpipe.db'}"


@pytest.fixture
def results(broker: Broker) -> Iterator[Results]:
    """The ``OutboundResult``s the sender publishes, read from a queue of the test's own."""
    reader = Results(broker)
    yield reader
    reader.delete()


@pytest.fixture
def rig(
    sim: SimHandle, amqp_url: str, namespace: str, database_url: str, tmp_path: Path
) -> Iterator[Rig]:
    """The fetcher's pieces against the simulator, RabbitMQ and each database."""
    with open_rig(sim, amqp_url, namespace, database_url, tmp_path / "blobs") as made:
        yield made


@pytest.fixture
def lite(sim: SimHandle, amqp_url: str, namespace: str, tmp_path: Path) -> Iterator[Rig]:
    """The same rig on SQLite only, for what does not touch the database's behaviour."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    with open_rig(sim, amqp_url, namespace, url, tmp_path / "blobs") as made:
        yield made
