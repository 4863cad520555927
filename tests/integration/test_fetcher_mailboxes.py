"""Two mailboxes polled on their own threads, one with a wrong client secret: the other keeps
working; the broken one says so once at ERROR with the hint (not on every attempt: they back
off), and every refused attempt is in the metrics; readiness says why."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr
from structlog.testing import capture_logs

from libs.common.settings import MailpipeConfig
from libs.graphsim.testing import SimHandle
from tests.integration.fetcher_rig import HELPDESK, SUPPORT, Rig, mail, open_rig, until

WRONG_SECRET = "not-the-secret-0123456789"


@pytest.fixture
def rig(sim: SimHandle, amqp_url: str, namespace: str, tmp_path: Path) -> Iterator[Rig]:
    database_url = f"sqlite:///{tmp_path / 'state.db'}"
    with open_rig(sim, amqp_url, namespace, database_url, tmp_path / "blobs") as made:
        yield made


def one_broken(rig: Rig) -> MailpipeConfig:
    config = rig.config(poll_interval_s=0.2)
    good, bad = sorted(config.mailboxes, key=lambda b: b.address != SUPPORT)
    assert (good.address, bad.address) == (SUPPORT, HELPDESK)
    broken = bad.model_copy(update={"client_secret": SecretStr(WRONG_SECRET)})
    return config.model_copy(update={"mailboxes": (good, broken)})


def auth_failures(mailbox: str) -> float:
    value = REGISTRY.get_sample_value(
        "mailpipe_fetcher_graph_auth_failures_total", {"mailbox": mailbox}
    )
    return value or 0.0


def test_a_broken_mailbox_never_stalls_the_other_and_says_what_to_do(rig: Rig) -> None:
    for n in range(3):
        rig.seed(mail(n), mailbox=SUPPORT)
        rig.seed(mail(10 + n, to=HELPDESK), mailbox=HELPDESK)
    fetcher = rig.fetcher(one_broken(rig))
    failures_before = auth_failures(HELPDESK)
    support_before = auth_failures(SUPPORT)  # other tests of the process may have counted
    stop = threading.Event()
    threads = [threading.Thread(target=fn, name=name) for name, fn in fetcher.loops(stop)]
    with capture_logs() as logs:
        for thread in threads:
            thread.start()
        try:
            until(lambda: auth_failures(HELPDESK) - failures_before >= 3)
            seeded_later = rig.seed(mail(7), mailbox=SUPPORT)
            until(lambda: (SUPPORT, seeded_later) in fetcher.inflight)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
    emails = rig.inbound()
    assert {e.mailbox for e in emails} == {SUPPORT}
    assert len(emails) == 4, "the good mailbox kept polling while the other failed"
    assert auth_failures(HELPDESK) - failures_before >= 3, "every refused attempt counts"
    assert auth_failures(SUPPORT) == support_before

    refused = [
        e for e in logs if e.get("mailbox") == HELPDESK and e["event"] == "credential refused"
    ]
    assert len(refused) == 1, "one line while the refusal stays the same (within a minute)"
    assert all(e["log_level"] == "error" for e in refused)
    assert all("AADSTS7000215" in e["code"] for e in refused)
    assert all("secret" in (e["hint"] or "").lower() for e in refused)
    assert all(WRONG_SECRET not in str(e) for e in logs), "the secret never reaches a log"

    checks = {name: check() for name, check in fetcher.checks().items()}
    assert checks[f"mailbox:{SUPPORT}"] == (True, "ok")
    ok, detail = checks[f"mailbox:{HELPDESK}"]
    assert not ok and "credential refused" in detail
    assert REGISTRY.get_sample_value(
        "mailpipe_fetcher_last_successful_poll_timestamp_seconds", {"mailbox": SUPPORT}
    )
