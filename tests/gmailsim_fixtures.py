"""Pytest fixtures for the Gmail simulator (loaded by ``tests/conftest.py``).

``gmailsim``: one simulator per test session. ``gsim``: the same simulator, reset to a clean
state (mailboxes empty, faults off, the default service account and its delegation only)
before the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from libs.gmailsim.testing import GmailSimHandle, running_simulator

GMAILSIM_MAILBOXES = ["support@example.com", "helpdesk@example.com", "agent@example.com"]


@pytest.fixture(scope="session")
def gmailsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GmailSimHandle]:
    with running_simulator(tmp_path_factory.mktemp("gmailsim"), GMAILSIM_MAILBOXES) as handle:
        yield handle


@pytest.fixture
def gsim(gmailsim: GmailSimHandle) -> GmailSimHandle:
    with gmailsim.control() as control:
        control.post("/_sim/reset").raise_for_status()
    return gmailsim
