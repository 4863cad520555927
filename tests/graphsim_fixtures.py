"""Pytest fixtures for the Graph simulator (loaded by ``tests/conftest.py``).

``graphsim``: one simulator per test session. ``sim``: the same simulator, reset to a clean
state (mailboxes empty, faults off, default app only) before the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from libs.graphsim.testing import SimHandle, running_simulator

SIM_MAILBOXES = ["support@contoso.com", "helpdesk@contoso.com"]


@pytest.fixture(scope="session")
def graphsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimHandle]:
    # Test receivers of change notifications are plain http servers.
    with running_simulator(
        tmp_path_factory.mktemp("graphsim"), SIM_MAILBOXES, allow_http_notifications=True
    ) as handle:
        yield handle


@pytest.fixture
def sim(graphsim: SimHandle) -> SimHandle:
    with graphsim.control() as control:
        control.post("/_sim/reset").raise_for_status()
    return graphsim
