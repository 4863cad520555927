"""Real msal obtains tokens from the simulator over HTTPS with a client secret; failures are
typed permanent errors with the Entra step to check."""

from __future__ import annotations

import logging
import uuid

import pytest

from libs.common.graph import GraphAuthError
from libs.common.graph.auth import TokenSource
from libs.graphsim.testing import SimHandle

from .graph_client_helpers import BOX, faults, mail_for, rfc822, seed


def test_secret_gets_a_token_and_reads_the_mailbox(sim: SimHandle) -> None:
    seed(sim, rfc822("Token test")[0])
    config = sim.config()
    token = TokenSource(config.graph, config.mailbox(BOX)).token()
    assert token and sim.client_secret not in token
    with mail_for(sim) as mail:
        assert [m.subject for m in mail.list_messages()] == ["Token test"]


def test_wrong_secret_is_a_clear_permanent_error(sim: SimHandle) -> None:
    wrong = "definitely-not-the-secret~123"
    with mail_for(sim, client_secret=wrong) as mail, pytest.raises(GraphAuthError) as info:
        mail.list_messages()
    err = info.value
    assert err.code == "AADSTS7000215" and not err.retryable
    assert err.hint is not None and "Certificates & secrets" in err.hint
    for text in (str(err), repr(err), repr(mail)):
        assert wrong not in text and sim.client_secret not in text


def test_unknown_client_names_the_client_id_step(sim: SimHandle) -> None:
    with mail_for(sim, client_id=str(uuid.uuid4())) as mail, pytest.raises(GraphAuthError) as info:
        mail.get_user(BOX)
    assert info.value.code == "AADSTS700016"
    assert info.value.hint is not None and "client_id" in info.value.hint


def test_no_secret_or_token_reaches_a_log_line(
    sim: SimHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seed(sim, rfc822("Log test")[0])
    faults(sim, throttle_ratio=0.7, retry_after_s=0, seed=1)  # retries log too (seeded: surely)
    config = sim.config()
    token = TokenSource(config.graph, config.mailbox(BOX)).token()
    with mail_for(sim) as mail:
        for _ in range(8):
            assert len(mail.list_messages()) == 1
    with mail_for(sim, client_secret="wrong-secret~xyz") as mail, pytest.raises(GraphAuthError):
        mail.list_messages()
    assert "graph retry" in caplog.text  # our retries were logged ...
    assert any(r.name.startswith("msal") for r in caplog.records)  # ... and msal's debug lines
    for secret in (sim.client_secret, "wrong-secret~xyz", token):
        assert secret not in caplog.text
