"""Three sender processes share one mailbox's sending rate (the send slots in PostgreSQL):
the simulator sees at most the limit in any window, every job is sent once, none waits its
way into the dead-letter queue. On both providers (the ``world`` fixture): the sender paces a
Google mailbox by the same shared slots as a Microsoft one (docs/sending.md, "Sending rate").
Gmail's own quota (a send costs 100 of a user's 250 units a second) would by itself keep any
2 s window at 4 sends, under the limit: the Gmail simulator's quota is lifted for this test,
so only the shared slots can keep the senders within it."""

from __future__ import annotations

from pathlib import Path

import pytest

from libs.common.broker import Broker
from tests.broker_helpers import drain
from tests.e2e.senders import senders, sent_by_job, write_config
from tests.e2e.worlds import MailWorld
from tests.integration.test_sender_support import (
    MAILBOX,
    Results,
    make_job,
    publish_job,
    sender_env,
)
from tests.rate_checks import busiest_window

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

LIMIT, WINDOW_S, JOBS = 5, 2.0, 30
#: A Gmail quota no sender reaches here (each process still spends at most 200 units a
#: second of its own accord: 2 sends, so three unpaced senders would send 12 in 2 s).
LIFTED_QUOTA = {"user_units_per_s": 1_000_000, "user_units_per_min": 60_000_000}


def _lift_gmail_quota(world: MailWorld) -> None:
    if world.provider != "google":
        return  # the Graph simulator limits requests per 10 minutes, far above 30 sends
    with world.control() as control:
        control.post("/_sim/faults", json=LIFTED_QUOTA).raise_for_status()


def test_three_senders_keep_one_mailbox_within_its_rate(
    world: MailWorld,
    broker: Broker,
    results: Results,
    amqp_url: str,
    namespace: str,
    database_url: str,
    tmp_path: Path,
) -> None:
    _lift_gmail_quota(world)
    config = write_config(world, tmp_path / "mailpipe.toml")
    env = sender_env(
        amqp_url,
        namespace,
        database_url,
        config,
        tmp_path / "blobs",
        MAILPIPE_SENDER_RATE_PER_MINUTE=str(LIMIT),
        MAILPIPE_SENDER_RATE_WINDOW_S=str(WINDOW_S),
    )
    jobs = [make_job(f"rate-{i:03d}") for i in range(JOBS)]
    with senders(env, [tmp_path / f"sender-{i}.log" for i in range(3)]) as procs:
        for job in jobs:
            publish_job(broker, job)
        got = results.wait_count(JOBS, timeout_s=120)
    assert all(p.returncode == 0 for p in procs)
    sent = world.sent(MAILBOX)
    assert len(sent) == JOBS and set(sent_by_job(world).values()) == {1}, "each job once"
    busiest = busiest_window([entry["sent_at"] for entry in sent], WINDOW_S)
    assert busiest <= LIMIT, f"{busiest} sends in one {WINDOW_S} s window"
    assert {r.status for r in got} == {"sent"} and len({r.job_id for r in got}) == JOBS
    assert drain(broker, broker.names.sender.dead) == []
