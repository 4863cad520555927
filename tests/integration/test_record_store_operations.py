"""Quarantine, auto-ack rate, caches, CLI shapes and errors. Both backends."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from libs.common.db.engine import make_engine
from services.ticketer.store import (
    Attachment,
    Party,
    RecordNotFound,
    RecordStore,
    Requester,
    StoreUnavailable,
)
from tests.db_fixtures import FakeClock, inbound

MAILBOX = "help@example.com"


@pytest.fixture
def clocked(database_url: str) -> Iterator[tuple[RecordStore, FakeClock]]:
    clock = FakeClock()
    store = RecordStore.open(database_url, clock=clock)
    try:
        yield store, clock
    finally:
        store.close()


def _ack(store: RecordStore, job_id: str, recipient: str, limit: int = 2) -> bool:
    return store.reserve_ack(job_id, mailbox=MAILBOX, recipient=recipient, record_id=1, limit=limit)


def test_quarantine_list_and_replay(store: RecordStore) -> None:
    result = store.quarantine_email(
        MAILBOX,
        "AAMk-bad",
        "bad_mime",
        detail="no boundary",
        attempts=5,
        subject="Broken",
        provider="microsoft",
    )
    assert result.fresh and result.processed.outcome == "quarantined"
    assert result.processed.reason == "bad_mime"
    # A redelivery of the same mail answers the same, and lists it once.
    again = store.quarantine_email(
        MAILBOX, "AAMk-bad", "bad_mime", attempts=6, provider="microsoft"
    )
    assert again.processed == result.processed and not again.fresh

    [entry] = store.list_quarantine()
    assert (entry.message_id, entry.reason, entry.detail, entry.attempts) == (
        "AAMk-bad",
        "bad_mime",
        "no boundary",
        5,
    )
    assert entry.replayed_at is None
    assert store.get_quarantine(entry.id) == entry

    replayed = store.mark_replayed(entry.id)
    assert replayed.replayed_at is not None
    assert store.mark_replayed(entry.id) == replayed  # idempotent
    assert store.list_quarantine() == []
    assert store.list_quarantine(include_replayed=True) == [replayed]
    # The mail comes back to the inbox and is handled afresh, not quarantined again.
    assert store.processed_outcome(MAILBOX, "AAMk-bad") is None
    created = store.create_record_with_message(inbound(1, message_id="AAMk-bad"))
    assert created.created

    with pytest.raises(RecordNotFound):
        store.mark_replayed(entry.id + 100)
    assert store.get_quarantine(entry.id + 100) is None


def test_an_email_with_a_record_is_not_quarantined_afterwards(store: RecordStore) -> None:
    created = store.create_record_with_message(inbound(1))
    late = store.quarantine_email(MAILBOX, "AAMk-1", "blob_missing", provider="microsoft")
    assert late.processed == created.processed and not late.fresh
    assert store.list_quarantine() == []


def test_auto_ack_rate_per_recipient(clocked: tuple[RecordStore, FakeClock]) -> None:
    store, clock = clocked
    assert _ack(store, "ack-1", "User@Customer.example")
    assert _ack(store, "ack-1", "user@customer.example")  # the same job again: still yes
    assert _ack(store, "ack-2", "user@customer.example")
    assert not _ack(store, "ack-3", "user@customer.example")
    assert _ack(store, "ack-4", "other@customer.example")
    assert store.count_acks_since("USER@customer.example", clock.now - timedelta(hours=1)) == 2
    clock.now += timedelta(hours=1, seconds=1)
    assert _ack(store, "ack-5", "user@customer.example")


def test_concurrent_acks_respect_the_limit(store: RecordStore) -> None:
    start = threading.Barrier(6)

    def reserve(i: int) -> bool:
        start.wait()
        return _ack(store, f"ack-{i}", "u@customer.example", limit=3)

    with ThreadPoolExecutor(6) as pool:
        assert sum(pool.map(reserve, range(6))) == 3


def test_requester_cache(store: RecordStore) -> None:
    assert store.get_requester("ann@example.com") is None
    at = datetime(2026, 11, 2, tzinfo=UTC)
    store.put_requester(Requester("Ann@Example.com", at, name="Ann", in_tenant=False))
    store.put_requester(
        Requester(
            "ann@example.com",
            at,
            name="Ann",
            display_name="Ann Lee",
            job_title="CFO",
            department="Finance",
            in_tenant=True,
        )
    )
    cached = store.get_requester("ANN@example.com")
    assert cached == Requester(
        "ann@example.com",
        at,
        name="Ann",
        display_name="Ann Lee",
        job_title="CFO",
        department="Finance",
        in_tenant=True,
    )


def test_list_and_get_shapes_for_the_cli(store: RecordStore) -> None:
    att = Attachment("scan.png", "cd" * 32, 2048, "image/png", inline=True, content_id="img1")
    one = store.create_record_with_message(inbound(1, attachments=(att,))).record_id
    two = store.create_record_with_message(inbound(2)).record_id
    assert one is not None and two is not None
    store.set_status(two, "pending")

    listed = [r.as_json() for r in store.list_records()]
    assert [r["id"] for r in listed] == [one, two]
    assert set(listed[0]) == {
        "id",
        "mailbox",
        "subject",
        "requester",
        "status",
        "message_count",
        "created_at",
        "updated_at",
    }
    assert listed[0]["requester"] == {"address": "user1@customer.example", "name": "User 1"}
    assert listed[0]["subject"] == "Printer 1 is broken"
    assert [r.id for r in store.list_records(status="pending")] == [two]
    assert [r.id for r in store.list_records(after_id=one, limit=5)] == [two]
    assert store.list_records(mailbox="other@example.com") == []

    detail = store.get_record(one)
    assert detail is not None
    shown = detail.as_json()
    assert shown["message_count"] == 1 and shown["status"] == "open"
    [message] = shown["messages"]
    assert {
        "direction",
        "internet_message_id",
        "from",
        "to",
        "subject",
        "body_text",
        "attachments",
        "delivery_failures",
    } <= set(message)
    assert message["direction"] == "in"
    assert message["internet_message_id"] == "<m1@customer.example>"
    assert message["from"] == {"address": "user1@customer.example", "name": "User 1"}
    assert message["to"] == [{"address": MAILBOX, "name": "Helpdesk"}]
    assert message["body_text"] == "Hello, printer 1 jams. Grüße"
    assert message["attachments"] == [att.as_json()]
    assert message["delivery_failures"] == []
    assert detail.messages[0].received_at == inbound(1).received_at
    assert store.get_record(9999) is None


def test_unreachable_database_is_retryable_and_keeps_the_password_out() -> None:
    url = "postgresql+psycopg://mailpipe:s3cret-pw@127.0.0.1:1/records"
    store = RecordStore(make_engine(url))
    with pytest.raises(StoreUnavailable) as caught:
        store.processed_outcome(MAILBOX, "AAMk-1")
    assert caught.value.retryable
    assert "s3cret-pw" not in str(caught.value)
    assert "s3cret-pw" not in repr(caught.value)
    store.close()


def test_requester_defaults_to_the_sender(store: RecordStore) -> None:
    record = store.create_record_with_message(inbound(3)).record_id
    other = store.create_record_with_message(
        inbound(4), subject="Custom", requester=Party("boss@customer.example", "Boss")
    ).record_id
    assert record is not None and other is not None
    first, second = store.get_record(record), store.get_record(other)
    assert first is not None and second is not None
    assert first.record.requester == Party("user3@customer.example", "User 3")
    assert second.record.requester == Party("boss@customer.example", "Boss")
    assert second.record.subject == "Custom"
