"""Records from emails: idempotency, races, threading lookups, reopening. Both backends."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Table, func, select

from libs.common.db.errors import UnitConflict
from libs.common.db.schema import processed_log, record_messages, records
from services.ticketer.store import (
    Attachment,
    DeliveryFailure,
    NewMessage,
    Party,
    RecordNotFound,
    RecordStore,
    WriteResult,
    migrate,
)
from tests.db_fixtures import inbound

MAILBOX = "help@example.com"


def _count(store: RecordStore, table: Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_create_then_redeliver_gives_the_same_outcome_and_one_record(store: RecordStore) -> None:
    msg = inbound(1, attachments=(Attachment("a.pdf", "ab" * 32, 12, "application/pdf"),))
    first = store.create_record_with_message(msg)
    again = store.create_record_with_message(msg)

    assert first.fresh and first.created and first.processed.outcome == "created"
    assert first.record_id is not None
    assert not again.fresh and not again.created
    assert again.processed == first.processed
    assert store.processed_outcome(MAILBOX, "AAMk-1") == first.processed
    assert _count(store, records) == 1
    assert _count(store, record_messages) == 1
    assert _count(store, processed_log) == 1


def test_redelivered_email_already_appended_is_not_turned_into_a_record(
    store: RecordStore,
) -> None:
    record = store.create_record_with_message(inbound(1)).record_id
    assert record is not None
    reply = inbound(2, kind="reply", in_reply_to="<m1@customer.example>")
    appended = store.append_message(record, reply)
    # The redelivery reaches a ticketer that would have made a new record: the log answers.
    again = store.create_record_with_message(reply)
    assert again.processed == appended.processed
    assert again.processed.outcome == "appended" and again.record_id == record
    assert _count(store, records) == 1


def test_same_message_id_under_another_message_id_is_a_duplicate(store: RecordStore) -> None:
    first = store.create_record_with_message(inbound(1))
    copy = store.create_record_with_message(inbound(1, message_id="AAMk-copy"))
    assert copy.fresh
    assert copy.processed.outcome == "ignored"
    assert copy.processed.reason == "duplicate"
    assert copy.record_id == first.record_id
    assert _count(store, records) == 1


def test_message_ids_are_matched_with_or_without_angle_brackets(store: RecordStore) -> None:
    first = store.create_record_with_message(inbound(1, internet_message_id="m1@customer.example"))
    stored = store.find_message_by_internet_id(MAILBOX, "<m1@customer.example>")
    assert stored is not None and stored.record_id == first.record_id
    assert stored.internet_message_id == "<m1@customer.example>"
    assert store.find_record_by_message_ids(MAILBOX, [" m1@customer.example "]) == first.record_id


def _race(store: RecordStore, msgs: list[NewMessage], workers: int) -> list[WriteResult]:
    start = threading.Barrier(workers)

    def one(i: int) -> WriteResult:
        start.wait()
        return store.create_record_with_message(msgs[i % len(msgs)])

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, range(workers)))


def test_threads_racing_on_one_email_make_one_record(store: RecordStore) -> None:
    results = _race(store, [inbound(7)], workers=6)
    assert sum(r.fresh for r in results) == 1
    assert len({r.processed for r in results}) == 1
    assert _count(store, records) == 1
    assert _count(store, record_messages) == 1


def test_threads_racing_on_copies_with_one_message_id_make_one_record(store: RecordStore) -> None:
    copies = [inbound(7, message_id=f"AAMk-7-{i}") for i in range(4)]
    results = _race(store, copies, workers=4)
    outcomes = sorted(r.processed.outcome for r in results)
    assert outcomes == ["created", "ignored", "ignored", "ignored"]
    assert len({r.record_id for r in results}) == 1
    assert _count(store, records) == 1


RACE_SCRIPT = """
import sys
from services.ticketer.store import RecordStore
from tests.db_fixtures import inbound
store = RecordStore.open(sys.argv[1], migrate=False)
for n in range(int(sys.argv[2])):
    r = store.create_record_with_message(inbound(n))
    print(n, r.processed.outcome, r.record_id, int(r.fresh))
store.close()
"""


def test_two_processes_on_the_same_emails_make_one_record_each(
    database_url: str, tmp_path: Path
) -> None:
    migrate(database_url)
    emails = 40
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACE_SCRIPT, database_url, str(emails)],
            cwd=Path(__file__).resolve().parents[2],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    seen: dict[int, set[tuple[str, str]]] = {}
    fresh = 0
    for out, _err in outputs:
        for line in out.splitlines():
            n, outcome, record_id, was_fresh = line.split()
            seen.setdefault(int(n), set()).add((outcome, record_id))
            fresh += int(was_fresh)
    # Both processes report every email, with the same outcome; exactly one wrote it.
    assert sorted(seen) == list(range(emails))
    assert all(len(v) == 1 and next(iter(v))[0] == "created" for v in seen.values())
    assert fresh == emails
    store = RecordStore.open(database_url, migrate=False)
    try:
        assert len(store.list_records()) == emails
        assert len({next(iter(v))[1] for v in seen.values()}) == emails
    finally:
        store.close()


def test_threading_by_message_ids_finds_inbound_and_our_own_messages(store: RecordStore) -> None:
    a = store.create_record_with_message(inbound(1)).record_id
    b = store.create_record_with_message(inbound(2)).record_id
    assert a is not None and b is not None
    ours = NewMessage(
        mailbox=MAILBOX,
        direction="out",
        kind="outbound",
        received_at=inbound(3).received_at,
        internet_message_id="<reply-1@mailpipe.example>",
        from_=Party(MAILBOX, "Helpdesk"),
        to=(Party("user2@customer.example"),),
        subject="Re: Printer 2 is broken [#2]",
        body_text="We are on it.",
    )
    ref, stored = store.record_outbound(b, ours)
    assert stored and ref.record_id == b and ref.direction == "out"
    assert store.record_outbound(b, ours) == (ref, False)

    assert store.find_record_by_message_ids(MAILBOX, ["<reply-1@mailpipe.example>"]) == b
    assert store.find_record_by_message_ids(MAILBOX, ["<m1@customer.example>"]) == a
    # Earlier ids win: In-Reply-To first, then References newest first.
    both = ["<unknown@x.example>", "<reply-1@mailpipe.example>", "<m1@customer.example>"]
    assert store.find_record_by_message_ids(MAILBOX, both) == b
    assert store.find_record_by_message_ids(MAILBOX, ["<unknown@x.example>"]) is None
    assert store.find_record_by_message_ids(MAILBOX, []) is None
    # Another mailbox never threads onto these records.
    assert store.find_record_by_message_ids("other@example.com", ["<m1@customer.example>"]) is None


def test_threading_by_conversation(store: RecordStore) -> None:
    a = store.create_record_with_message(inbound(1, conversation_id="conv-x")).record_id
    store.create_record_with_message(inbound(2, conversation_id="conv-y"))
    assert store.find_record_by_conversation(MAILBOX, "conv-x") == a
    assert store.find_record_by_conversation(MAILBOX, "conv-z") is None
    assert store.find_record_by_conversation("other@example.com", "conv-x") is None


def test_append_reopens_a_closed_record_and_counts_messages(store: RecordStore) -> None:
    record = store.create_record_with_message(inbound(1)).record_id
    assert record is not None
    store.set_status(record, "closed")
    result = store.append_message(record, inbound(2, kind="reply"))
    assert result.fresh and result.processed.outcome == "appended"
    detail = store.get_record(record)
    assert detail is not None
    assert detail.record.status == "open"
    assert detail.record.message_count == 2
    assert detail.record.updated_at >= detail.record.created_at


def test_a_note_does_not_reopen(store: RecordStore) -> None:
    record = store.create_record_with_message(inbound(1)).record_id
    assert record is not None
    store.set_status(record, "closed")
    store.append_message(record, inbound(2, kind="auto_reply"), reopen=False)
    detail = store.get_record(record)
    assert detail is not None and detail.record.status == "closed"
    assert detail.record.message_count == 2


def test_append_to_a_deleted_record_raises_and_stores_nothing(store: RecordStore) -> None:
    with pytest.raises(RecordNotFound):
        store.append_message(999, inbound(2, kind="reply"))
    assert store.processed_outcome(MAILBOX, "AAMk-2") is None
    assert _count(store, record_messages) == 0
    assert not store.record_exists(999)


def test_delivery_failure_is_attached_to_the_record(store: RecordStore) -> None:
    record = store.create_record_with_message(inbound(1)).record_id
    assert record is not None
    bounce = inbound(
        2,
        kind="delivery_failure",
        from_=Party("postmaster@customer.example"),
        delivery_failures=(
            DeliveryFailure(
                recipient="User1@Customer.example",
                status="5.1.1",
                diagnostic="550 5.1.1 user unknown",
                original_message_id="reply-1@mailpipe.example",
            ),
        ),
    )
    store.append_message(record, bounce, reopen=False)
    detail = store.get_record(record)
    assert detail is not None
    failures = [f for m in detail.messages for f in m.delivery_failures]
    assert failures == [
        DeliveryFailure(
            recipient="user1@customer.example",
            status="5.1.1",
            diagnostic="550 5.1.1 user unknown",
            original_message_id="<reply-1@mailpipe.example>",
        )
    ]


def test_ignored_email_is_logged_once(store: RecordStore) -> None:
    first = store.record_ignored(
        MAILBOX, "AAMk-9", "auto_reply", internet_message_id="<x@y.z>", provider="microsoft"
    )
    again = store.record_ignored(MAILBOX, "AAMk-9", "loop", provider="microsoft")
    assert first.fresh and not again.fresh
    assert again.processed == first.processed
    assert first.processed.outcome == "ignored" and first.processed.reason == "auto_reply"
    assert first.processed.internet_message_id == "<x@y.z>"
    assert _count(store, records) == 0


def test_a_deleted_records_id_is_never_given_to_a_new_record(store: RecordStore) -> None:
    # Record ids are printed in subjects ([#12]); a reused id would thread a customer's reply
    # into somebody else's record.
    old = store.create_record_with_message(inbound(1)).record_id
    assert old is not None
    with store.engine.begin() as conn:
        conn.execute(records.delete().where(records.c.id == old))
    new = store.create_record_with_message(inbound(2)).record_id
    assert new is not None and new > old


# -- one transaction for many calls (StoreBase.unit) ------------------------------------------


def test_a_unit_commits_all_its_writes_at_its_end(store: RecordStore) -> None:
    with store.unit():
        first = store.create_record_with_message(inbound(1))
        assert first.record_id is not None
        # Reads inside the unit see its own writes: a reply in the same unit threads.
        assert store.find_message_by_internet_id(MAILBOX, "<m1@customer.example>") is not None
        reply = inbound(2, kind="reply", in_reply_to="<m1@customer.example>")
        store.append_message(first.record_id, reply)
        again = store.create_record_with_message(inbound(1))
        assert not again.fresh, "the processed log answers inside the unit too"
    assert _count(store, records) == 1
    assert _count(store, record_messages) == 2
    assert _count(store, processed_log) == 2


def test_a_unit_that_raises_leaves_nothing_behind(store: RecordStore) -> None:
    with pytest.raises(RuntimeError), store.unit():
        store.create_record_with_message(inbound(1))
        store.create_record_with_message(inbound(2))
        raise RuntimeError("the batch failed")
    assert _count(store, records) == 0
    assert _count(store, processed_log) == 0
    assert store.create_record_with_message(inbound(1)).fresh


def test_a_unit_is_per_thread(store: RecordStore) -> None:
    with store.unit():
        store.create_record_with_message(inbound(1))
        # Another thread is outside the unit: its own transaction, committed at once.
        # (SQLite: it waits for the unit's write lock, so only a read is tried here.)
        with ThreadPoolExecutor(1) as pool:
            seen = pool.submit(store.processed_outcome, MAILBOX, "AAMk-1").result()
        assert seen is None, "uncommitted writes of the unit are not visible outside it"
    assert store.processed_outcome(MAILBOX, "AAMk-1") is not None


def test_a_race_lost_inside_a_unit_rolls_the_whole_unit_back(store: RecordStore) -> None:
    """Another ticketer's unit holds email 2, uncommitted, while this unit writes emails 1
    and 2. PostgreSQL: this unit's insert of 2 waits on the other's unique key and, once that
    commits, fails: UnitConflict, and nothing of this unit stays (its caller repeats the
    work email by email). SQLite: this unit waits for the other's write lock at its start,
    then finds the other's outcome for 2."""
    other = RecordStore(store.engine)
    holding, go = threading.Event(), threading.Event()

    def other_unit() -> None:
        with other.unit():
            other.create_record_with_message(inbound(2))
            holding.set()
            go.wait(30)

    with ThreadPoolExecutor(2) as pool:
        theirs = pool.submit(other_unit)
        assert holding.wait(30)

        def release_later() -> None:
            time.sleep(0.3)
            go.set()

        pool.submit(release_later)
        if store.dialect == "postgresql":
            with pytest.raises(UnitConflict), store.unit():
                assert store.create_record_with_message(inbound(1)).fresh
                store.create_record_with_message(inbound(2))
            theirs.result(timeout=30)
            assert store.processed_outcome(MAILBOX, "AAMk-1") is None, "rolled back"
            assert _count(store, records) == 1
        else:
            with store.unit():
                assert store.create_record_with_message(inbound(1)).fresh
                assert not store.create_record_with_message(inbound(2)).fresh
            theirs.result(timeout=30)
            assert _count(store, records) == 2
    assert _count(store, processed_log) == _count(store, records)


def test_processed_outcomes_of_many_emails_at_once(store: RecordStore) -> None:
    first = store.create_record_with_message(inbound(1)).processed
    second = store.record_ignored("Other@Example.com", "AAMk-x", "auto_reply", provider="microsoft")
    keys = [(MAILBOX, "AAMk-1"), (MAILBOX, "AAMk-2"), ("Other@Example.com", "AAMk-x")]
    found = store.processed_outcomes(keys)
    assert found == {keys[0]: first, keys[2]: second.processed}, "keyed as asked, absent: new"
    assert store.processed_outcomes([]) == {}


def test_a_created_record_comes_back_as_it_reads(store: RecordStore) -> None:
    made = store.create_record_with_message(
        inbound(1), requester=Party("Jane@Customer.example", "Jane")
    )
    assert made.record is not None
    assert made.record == store.record_summary(made.record.id)
    assert store.create_record_with_message(inbound(1)).record is None, "a repeat made none"
