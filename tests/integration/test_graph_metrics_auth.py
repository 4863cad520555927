"""A credential that stops working shows in the metrics at the first failed token request."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from libs.common.graph import GraphAuthError
from libs.graphsim.testing import SimHandle
from tests.integration.graph_client_helpers import BOX, mail_for


def test_wrong_secret_counts_a_token_failure(sim: SimHandle) -> None:
    labels = {"mailbox": BOX, "code": "AADSTS7000215"}
    before = REGISTRY.get_sample_value("mailpipe_graph_token_failures_total", labels) or 0.0
    with mail_for(sim, client_secret="wrong-secret~1") as mail, pytest.raises(GraphAuthError):
        mail.list_messages()
    after = REGISTRY.get_sample_value("mailpipe_graph_token_failures_total", labels)
    assert after == before + 1
