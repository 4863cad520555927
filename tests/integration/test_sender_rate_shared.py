"""One sending rate per mailbox across every sender: the send slots on SQLite and PostgreSQL,
a database cut while a job waits for its slot, a sender stopped while a job waits."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import URL, make_url

from libs.common.broker import Broker
from libs.common.db.errors import StoreUnavailable
from libs.common.db.schema import send_slots
from libs.graphsim.testing import SimHandle
from services.sender.domain.rate import RateLimit
from services.sender.joblog import JobLog
from services.sender.sendrate import SendSlots, SendSlotsPort, SlotAnswer
from tests.broker_helpers import drain, wait_until
from tests.integration.test_sender_support import (
    Results,
    make_job,
    publish_job,
    sender_in_process,
    sent_list,
)
from tests.rate_checks import busiest_window

MAILBOX = "support@contoso.com"


def _taker(url: str, rate: RateLimit, count: int, ended: list[float]) -> None:
    """A sender of its own (its own engine): ``count`` sends at the shared rate."""
    slots = SendSlots.open(url, migrate=False)
    try:
        for _ in range(count):
            while (answer := slots.take(MAILBOX, rate)).slot_id is None:
                threading.Event().wait(answer.wait_s)  # the rate's own wait
            slots.stamp(answer.slot_id)
            with slots.engine.connect() as conn:  # where the database counted it
                query = select(send_slots.c.sent_at).where(send_slots.c.id == answer.slot_id)
                ended.append(conn.execute(query).scalar_one().timestamp())
    finally:
        slots.close()


def test_concurrent_takers_never_exceed_the_limit_in_any_window(database_url: str) -> None:
    SendSlots.open(database_url).close()  # migrated once, before the takers race
    rate = RateLimit(limit=3, window_s=0.5)
    ended: list[float] = []
    takers = [
        threading.Thread(target=_taker, args=(database_url, rate, 4, ended)) for _ in range(4)
    ]
    for t in takers:
        t.start()
    for t in takers:
        t.join(timeout=60)
    assert len(ended) == 16, "every send got its slot"
    assert busiest_window(ended, rate.window_s) <= rate.limit


def test_mailboxes_have_their_own_slots_and_old_ones_are_pruned(database_url: str) -> None:
    slots = SendSlots.open(database_url)
    try:
        rate = RateLimit(limit=1, window_s=0.2)
        assert slots.take("A@contoso.com", rate).slot_id is not None
        assert slots.take("a@contoso.com", rate).slot_id is None  # case-blind: one mailbox
        assert slots.take("b@contoso.com", rate).slot_id is not None
        assert wait_until(lambda: slots.take("a@contoso.com", rate).slot_id is not None, 10)
        assert slots.count("a@contoso.com") == 1, "the slot of the window before is gone"
    finally:
        slots.close()


@dataclass
class Watched:
    """Send slots that count what happened: waits told, database failures met."""

    real: SendSlotsPort
    waits: int = 0
    failures: int = 0

    def take(self, mailbox: str, rate: RateLimit) -> SlotAnswer:
        try:
            answer = self.real.take(mailbox, rate)
        except StoreUnavailable:
            self.failures += 1
            raise
        self.waits += answer.slot_id is None
        return answer

    def stamp(self, slot_id: int) -> None:
        self.real.stamp(slot_id)


@contextmanager
def database_out(admin: URL, database_url: str) -> Iterator[None]:
    """No connection to the test's database while inside: the ones open are cut, new ones
    refused, as while PostgreSQL restarts."""
    name = make_url(database_url).database
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        yield
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_database_outage_while_a_job_waits_for_its_slot_sends_it_once_promptly(
    sim: SimHandle,
    broker: Broker,
    results: Results,
    database_url: str,
    postgres_admin_url: URL,
    tmp_path: Path,
) -> None:
    watched: list[Watched] = []

    def watch(real: SendSlots) -> Watched:
        watched.append(Watched(real))
        return watched[0]

    # One send per 3 s; claims go stale only after the default 600 s, so a job that waited
    # for staleness would not finish within this test's deadlines.
    with sender_in_process(
        broker,
        sim.config(),
        database_url,
        tmp_path / "blobs",
        slots=watch,
        rate_per_minute=1,
        rate_window_s=3,
    ) as joblog:
        publish_job(broker, make_job("first"))
        assert results.wait_for("first").status == "sent"
        publish_job(broker, make_job("second"))
        assert wait_until(lambda: watched[0].waits >= 1), "the second job waits for its slot"
        with database_out(postgres_admin_url, database_url):
            assert wait_until(lambda: watched[0].failures >= 2), "it met the outage"
        assert results.wait_for("second", timeout_s=60).status == "sent"
        entry = joblog.get_job("second")
    assert entry is not None and entry.status == "sent"
    assert entry.attempts == 1, "never released and retried: the job stayed in hand"
    sent = [e["headers"]["X-Mailpipe-Job-Id"] for e in sent_list(sim)]
    assert sorted(sent) == ["first", "second"], "each sent exactly once"
    assert [r.job_id for r in results.read()].count("second") == 1
    assert drain(broker, broker.names.sender.dead) == []


def test_a_sender_told_to_stop_gives_a_waiting_job_back(
    sim: SimHandle, broker: Broker, results: Results, db_url: str, tmp_path: Path
) -> None:
    watched: list[Watched] = []

    def watch(real: SendSlots) -> Watched:
        watched.append(Watched(real))
        return watched[0]

    with sender_in_process(
        broker,
        sim.config(),
        db_url,
        tmp_path / "blobs",
        slots=watch,
        rate_per_minute=1,
        rate_window_s=600,
    ):
        publish_job(broker, make_job("first"))
        assert results.wait_for("first").status == "sent"
        publish_job(broker, make_job("second"))
        assert wait_until(lambda: watched[0].waits >= 1), "the second job waits for its slot"
    # Left the block: the sender stopped (it would otherwise hold the job for ten minutes).
    joblog = JobLog.open(db_url, migrate=False)
    try:
        entry = joblog.get_job("second")
    finally:
        joblog.close()
    assert entry is not None and entry.status == "retrying", "claim released for the next one"
    back = drain(broker, broker.names.sender.name)
    assert [json.loads(g.body)["job_id"] for g in back] == ["second"], "back in its queue"
    assert "x-mailpipe-attempt" not in back[0].headers, "untried: no retry tier taken"
    assert [e["headers"]["X-Mailpipe-Job-Id"] for e in sent_list(sim)] == ["first"]
    assert [r.job_id for r in results.read()] == ["first"]
