"""Replies thread onto their record: the read-only thread lookup (SQLite and PostgreSQL), and a
job with ``record_id`` but no threading of its own sent with the record's In-Reply-To and
References; Graph throttling delays jobs without failing or doubling them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from libs.common.broker import Broker
from libs.common.db import ensure_schema, make_engine
from libs.common.db.schema import record_messages, records
from libs.common.db.threads import ThreadLookup
from libs.graphsim.testing import SimHandle
from tests.integration.test_sender_support import (
    MAILBOX,
    Results,
    make_job,
    parsed,
    publish_job,
    sender_in_process,
    sent_list,
    sim_stats,
)

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def seed_record(database_url: str) -> int:
    """A record with a request, our answer, the customer's reply and a bounce, in that order."""
    ensure_schema(database_url)
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            record_id = conn.execute(
                insert(records)
                .values(mailbox=MAILBOX, subject="Printer", created_at=T0, updated_at=T0)
                .returning(records.c.id)
            ).scalar_one()
            rows = [
                ("in", "request", "<q1@example.org>"),
                ("out", "outbound", "<a1@mailpipe.contoso.com>"),
                ("in", "reply", "q2@example.org"),  # stored without brackets by someone
                ("in", "delivery_failure", "<bounce@mx.example.org>"),
                ("in", "note", None),
            ]
            for i, (direction, kind, mid) in enumerate(rows):
                conn.execute(
                    insert(record_messages).values(
                        record_id=record_id,
                        direction=direction,
                        kind=kind,
                        mailbox=MAILBOX,
                        internet_message_id=mid,
                        references=[],
                        to=[],
                        cc=[],
                        received_at=T0 + timedelta(minutes=i),
                        created_at=T0 + timedelta(minutes=i),
                    )
                )
    finally:
        engine.dispose()
    return int(record_id)


def test_thread_lookup_gives_the_last_answerable_mail_and_every_id(database_url: str) -> None:
    record_id = seed_record(database_url)
    lookup = ThreadLookup.open(database_url)
    try:
        thread = lookup.thread_of(record_id)
        missing = lookup.thread_of(record_id + 1000)
    finally:
        lookup.close()
    assert thread is not None
    assert thread.last_inbound_message_id == "<q2@example.org>"
    assert thread.message_ids == (
        "<q1@example.org>",
        "<a1@mailpipe.contoso.com>",
        "<q2@example.org>",
        "<bounce@mx.example.org>",
    )
    assert missing is None


def test_a_reply_to_a_record_threads_from_the_record(
    sim: SimHandle, broker: Broker, results: Results, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'mailpipe.db'}"
    record_id = seed_record(db_url)
    with sender_in_process(broker, sim.config(), db_url, tmp_path / "blobs"):
        publish_job(broker, make_job("reply-1", subject="Re: Printer", record_id=record_id))
        result = results.wait_for("reply-1")
    assert result.status == "sent"
    msg = parsed(sent_list(sim)[0])
    assert msg["Subject"] == f"Re: [#{record_id}] Printer"
    assert msg["In-Reply-To"] == "<q2@example.org>"
    refs = msg["References"].split()
    assert refs[-1] == "<q2@example.org>" and "<q1@example.org>" in refs
    assert result.in_reply_to == "<q2@example.org>" and result.references[-1] == "<q2@example.org>"


def test_throttled_graph_delays_jobs_but_sends_each_once(
    sim: SimHandle, broker: Broker, results: Results, tmp_path: Path
) -> None:
    with sim.control() as control:
        control.post("/_sim/faults", json={"throttle_ratio": 0.3, "retry_after_s": 0, "seed": 1})
    db_url = f"sqlite:///{tmp_path / 'mailpipe.db'}"
    with sender_in_process(broker, sim.config(), db_url, tmp_path / "blobs"):
        for i in range(20):
            publish_job(broker, make_job(f"throttled-{i}"))
        results.wait_count(20, timeout_s=120)
    assert {r.status for r in results.seen} == {"sent"}
    ids = [e["headers"]["X-Mailpipe-Job-Id"] for e in sent_list(sim)]
    assert sorted(ids) == sorted(f"throttled-{i}" for i in range(20))
    assert sim_stats(sim)["throttled"] > 0  # Graph did answer 429s on the way
