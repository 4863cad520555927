"""The outbox table on SQLite and PostgreSQL: a job lives and dies with its record's
transaction; claims move a job's next attempt so that two relays never take it at once; a
confirm ends its publishing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from services.ticketer.relay import retry_after
from services.ticketer.store import RecordStore
from tests.db_fixtures import FakeClock, inbound

MAILBOX = "support@contoso.com"


@pytest.fixture
def clocked(database_url: str) -> Iterator[tuple[RecordStore, FakeClock]]:
    clock = FakeClock()
    opened = RecordStore.open(database_url, clock=clock)
    try:
        yield opened, clock
    finally:
        opened.close()


def _body(n: int) -> str:
    return f'{{"job_id": "ack-{n}"}}'


def test_a_job_is_committed_with_its_record_or_not_at_all(store: RecordStore) -> None:
    with store.unit():
        store.create_record_with_message(inbound(1))
        assert store.add_job(
            "ack-1", MAILBOX, _body(1), published=True, delay=timedelta(seconds=60)
        )
    with pytest.raises(RuntimeError), store.unit():
        store.create_record_with_message(inbound(2))
        store.add_job("ack-2", MAILBOX, _body(2), published=True, delay=timedelta(seconds=60))
        raise RuntimeError("the batch fails after both writes")
    assert store.outbox_job("ack-2") is None
    assert store.processed_outcome("help@example.com", "AAMk-2") is None
    row = store.outbox_job("ack-1")
    assert row is not None and row.attempts == 1 and row.body == _body(1)
    assert store.pending_jobs() == 1


def test_adding_a_job_twice_keeps_the_first(store: RecordStore) -> None:
    assert store.queue_job("cli-1", MAILBOX, _body(1)) is True
    assert store.queue_job("cli-1", MAILBOX, '{"other": 1}') is False
    row = store.outbox_job("cli-1")
    assert row is not None and row.body == _body(1) and row.attempts == 0


def test_claims_back_off_and_a_confirm_ends_them(
    clocked: tuple[RecordStore, FakeClock],
) -> None:
    store, clock = clocked
    store.add_job("ack-1", MAILBOX, _body(1), published=True, delay=retry_after(1))
    store.queue_job("cli-1", MAILBOX, _body(2))
    [first] = store.claim_due(10, retry_after)
    assert (first.job_id, first.attempts) == ("cli-1", 1)  # the acknowledgement is not due
    assert store.claim_due(10, retry_after) == []
    clock.now += retry_after(1)
    claimed = store.claim_due(10, retry_after)
    assert sorted((r.job_id, r.attempts) for r in claimed) == [("ack-1", 2), ("cli-1", 2)]
    store.mark_published(["ack-1"])
    row = store.outbox_job("ack-1")
    assert row is not None and row.published_at == clock.now
    assert store.confirm_job("ack-1", "sent", '{"status": "sent"}') is True
    assert store.confirm_job("ack-1", "sent", "{}") is False  # the first answer stays
    clock.now += timedelta(days=1)
    assert [r.job_id for r in store.claim_due(10, retry_after)] == ["cli-1"]
    done = store.outbox_job("ack-1")
    assert done is not None and (done.result_status, done.result) == ("sent", '{"status": "sent"}')
    assert store.pending_jobs() == 1


def test_pending_jobs_become_due_at_once_and_old_answers_are_dropped(
    clocked: tuple[RecordStore, FakeClock],
) -> None:
    store, clock = clocked
    for n in range(3):
        store.add_job(f"ack-{n}", MAILBOX, _body(n), published=True, delay=timedelta(hours=1))
    store.confirm_job("ack-0", "sent", "{}")
    assert store.claim_due(10, retry_after) == []
    assert store.make_pending_due() == 2
    assert sorted(r.job_id for r in store.claim_due(10, retry_after)) == ["ack-1", "ack-2"]
    clock.now += timedelta(days=8)
    assert store.forget_confirmed(clock.now - timedelta(days=7)) == 1
    assert store.outbox_job("ack-0") is None and store.pending_jobs() == 2


def test_concurrent_relays_never_claim_the_same_job_in_one_round(store: RecordStore) -> None:
    for n in range(60):
        store.queue_job(f"cli-{n}", MAILBOX, _body(n))
    claims: list[list[str]] = []
    lock, start = threading.Lock(), threading.Barrier(4)

    def relay() -> None:
        start.wait()
        while True:
            got = [r.job_id for r in store.claim_due(7, retry_after)]
            if not got:
                return
            with lock:
                claims.append(got)

    threads = [threading.Thread(target=relay) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    claimed = [job for round_ in claims for job in round_]
    assert sorted(claimed) == sorted(f"cli-{n}" for n in range(60))  # each once, none left
