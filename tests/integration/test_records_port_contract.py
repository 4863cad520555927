"""The ticketer's record store port (``Records`` and ``RequesterCache``): the same checks
against :class:`RecordStore` on SQLite and PostgreSQL and against the shared fake
(``tests/records_fake.py``), so the fake cannot drift from the store.

The real store runs on a clock fixed at the fake's ``NOW``, so timestamps compare too. Each
backend is a :class:`Backend`: the port plus the few set-up and inspection steps a check needs
that the port has no call for (close a record, log a send in the sender's job log, list the
quarantine), which each backend does its own way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from services.sender.joblog import JobLog
from services.ticketer.domain.sentcheck import LoggedFacts
from services.ticketer.ports import Records, RequesterCache
from services.ticketer.store import (
    Decided,
    NewMessage,
    Party,
    RecordNotFound,
    RecordStore,
    Requester,
)
from tests.db_fixtures import fresh_database, inbound
from tests.records_fake import NOW, FakeStore

BOX = "help@example.com"


@dataclass
class Backend:
    records: Records
    cache: RequesterCache
    close_record: Callable[[int], None]
    #: The sender's job log says: job id sent to (mailbox, record id) under this Message-ID.
    log_sent: Callable[[str, str, int, str], None]
    #: (message id, reason) of every email listed in quarantine.
    quarantined: Callable[[], list[tuple[str, str]]]


def _real(database_url: str) -> Iterator[Backend]:
    store = RecordStore.open(database_url, clock=lambda: NOW)
    joblog = JobLog(store.engine, clock=lambda: NOW)

    def log_sent(job_id: str, mailbox: str, record_id: int, mid: str) -> None:
        joblog.claim_job(job_id, mailbox=mailbox, record_id=record_id)
        joblog.mark_sent(job_id, internet_message_id=mid, graph_request_id="r")

    def quarantined() -> list[tuple[str, str]]:
        return [(q.message_id, q.reason) for q in store.list_quarantine()]

    try:
        yield Backend(store, store, lambda i: store.set_status(i, "closed"), log_sent, quarantined)
    finally:
        store.close()


def _fake() -> Iterator[Backend]:
    fake = FakeStore()

    def close(record_id: int) -> None:
        fake.records[record_id]["status"] = "closed"

    def log_sent(job_id: str, mailbox: str, record_id: int, mid: str) -> None:
        fake.sent_log[job_id] = LoggedFacts(mailbox, record_id, mid)

    yield Backend(fake, fake, close, log_sent, lambda: list(fake.quarantined))


@pytest.fixture(params=["sqlite", "postgresql", "fake"])
def port(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "fake":
        yield from _fake()
        return
    for database_url in fresh_database(request, request.param, tmp_path):
        yield from _real(database_url)


def outbound(n: int, **overrides: Any) -> NewMessage:
    message = NewMessage(
        mailbox=BOX,
        direction="out",
        kind="outbound",
        received_at=NOW,
        internet_message_id=f"<out{n}@mailpipe.example.com>",
        from_=Party(BOX),
        to=(Party("user1@customer.example"),),
        subject=f"Re: Printer {n}",
        body_text="We are on it.",
    )
    return dataclasses.replace(message, **overrides)


def test_a_new_email_makes_a_record_and_logs_created(port: Backend) -> None:
    store = port.records
    decided = Decided(change="created", ack="send")
    result = store.create_record_with_message(
        inbound(1, mailbox=BOX),
        subject="Printer",
        requester=Party("Boss@Customer.example", "B"),
        decided=decided,
    )
    assert result.fresh and result.created and result.record_id is not None
    row = result.processed
    assert (row.mailbox, row.provider, row.message_id, row.folder) == (
        BOX,
        "microsoft",
        "AAMk-1",
        "inbox",
    )
    assert (row.outcome, row.reason, row.processed_at) == ("created", None, NOW)
    assert row.internet_message_id == "<m1@customer.example>"
    assert (row.change, row.ack) == ("created", "send")
    summary = store.record_summary(result.record_id)
    assert summary is not None and result.record == summary
    assert (summary.mailbox, summary.subject, summary.status, summary.message_count) == (
        BOX,
        "Printer",
        "open",
        1,
    )
    assert summary.requester == Party("boss@customer.example", "B")
    assert store.record_mailbox(result.record_id) == BOX
    assert store.record_summary(result.record_id + 1) is None
    assert store.record_mailbox(result.record_id + 1) is None


def test_the_outcome_reads_back_one_or_many(port: Backend) -> None:
    store = port.records
    row = store.create_record_with_message(inbound(1, mailbox=BOX)).processed
    assert store.processed_outcome(BOX, "AAMk-1") == row
    assert store.processed_outcome(BOX.upper(), "AAMk-1") == row
    assert store.processed_outcome(BOX, "AAMk-2") is None
    keys = [(BOX.upper(), "AAMk-1"), (BOX, "AAMk-2")]
    assert store.processed_outcomes(keys) == {(BOX.upper(), "AAMk-1"): row}
    assert store.processed_outcomes([]) == {}


def test_a_repeat_is_not_fresh_and_answers_the_first_outcome(port: Backend) -> None:
    store = port.records
    first = store.create_record_with_message(inbound(1, mailbox=BOX))
    assert first.record_id is not None
    again = store.create_record_with_message(inbound(1, mailbox=BOX))
    assert not again.fresh and again.processed == first.processed and again.record is None
    appended = store.append_message(first.record_id, inbound(1, mailbox=BOX))
    ignored = store.record_ignored(BOX, "AAMk-1", "loop", provider="microsoft")
    quarantined = store.quarantine_email(BOX, "AAMk-1", "bad_mime", provider="microsoft")
    for repeat in (appended, ignored, quarantined):
        assert not repeat.fresh and repeat.processed == first.processed
    summary = store.record_summary(first.record_id)
    assert summary is not None and summary.message_count == 1
    assert port.quarantined() == []


def test_append_counts_and_reopens_unless_told_not_to(port: Backend) -> None:
    store = port.records
    record_id = store.create_record_with_message(inbound(1, mailbox=BOX)).record_id
    assert record_id is not None
    port.close_record(record_id)
    kept = store.append_message(record_id, inbound(2, mailbox=BOX), reopen=False)
    assert kept.fresh and not kept.created
    assert (kept.processed.outcome, kept.record_id, kept.record) == ("appended", record_id, None)
    summary = store.record_summary(record_id)
    assert summary is not None and (summary.status, summary.message_count) == ("closed", 2)
    decided = Decided(change="reopened", ack=None)
    reopened = store.append_message(record_id, inbound(3, mailbox=BOX), decided=decided)
    assert (reopened.processed.change, reopened.processed.ack) == ("reopened", None)
    summary = store.record_summary(record_id)
    assert summary is not None and (summary.status, summary.message_count) == ("open", 3)
    with pytest.raises(RecordNotFound):
        store.append_message(record_id + 1, inbound(4, mailbox=BOX))
    assert store.processed_outcome(BOX, "AAMk-4") is None


def test_threading_lookups(port: Backend) -> None:
    store = port.records
    first = store.create_record_with_message(inbound(1, mailbox=BOX, conversation_id="c"))
    second = store.create_record_with_message(inbound(2, mailbox=BOX, conversation_id="c"))
    assert first.record_id is not None and second.record_id is not None
    ref = store.find_message_by_internet_id(BOX, "m1@customer.example")
    assert ref is not None and (ref.record_id, ref.direction, ref.kind) == (
        first.record_id,
        "in",
        "request",
    )
    assert ref.internet_message_id == "<m1@customer.example>"
    assert store.find_message_by_internet_id("other@example.com", "<m1@customer.example>") is None
    ids = ["<nope@x>", "<m2@customer.example>", "<m1@customer.example>"]
    assert store.find_record_by_message_ids(BOX, ids) == second.record_id
    assert store.find_record_by_message_ids(BOX, ["<nope@x>"]) is None
    assert store.find_record_by_conversation(BOX, "c") == second.record_id
    assert store.find_record_by_conversation(BOX, "other") is None


def test_a_thread_root_names_the_first_record_of_its_requester(port: Backend) -> None:
    store = port.records
    root = "<root@customer.example>"
    alice, bob = Party("alice@customer.example", "Alice"), Party("bob@customer.example", "Bob")
    plain = store.create_record_with_message(inbound(1, mailbox=BOX), requester=alice)
    first = store.create_record_with_message(
        inbound(2, mailbox=BOX), requester=alice, thread_root="root@customer.example"
    )
    store.create_record_with_message(inbound(3, mailbox=BOX), requester=alice, thread_root=root)
    theirs = store.create_record_with_message(
        inbound(4, mailbox=BOX), requester=bob, thread_root=root
    )
    assert plain.record_id is not None and first.record_id is not None
    assert store.find_record_by_thread_root(BOX, root, "Alice@Customer.example") == first.record_id
    assert store.find_record_by_thread_root(BOX, root, bob.address) == theirs.record_id
    assert store.find_record_by_thread_root(BOX, root, "carol@customer.example") is None
    assert store.find_record_by_thread_root("other@example.com", root, alice.address) is None
    assert store.find_record_by_thread_root(BOX, "<m1@customer.example>", alice.address) is None


def test_a_copy_is_ignored_and_a_reused_message_id_is_kept(port: Backend) -> None:
    store = port.records
    first = store.create_record_with_message(inbound(1, mailbox=BOX))
    copy = store.create_record_with_message(inbound(1, mailbox=BOX, message_id="AAMk-copy"))
    assert copy.fresh and not copy.created
    assert (copy.processed.outcome, copy.processed.reason) == ("ignored", "duplicate")
    assert copy.record_id == first.record_id
    other = inbound(2, mailbox=BOX, internet_message_id="<m1@customer.example>")
    reused = store.create_record_with_message(other)
    assert reused.created and reused.processed.reason == "message_id_reused"
    assert reused.record_id != first.record_id
    ref = store.find_message_by_internet_id(BOX, "<m1@customer.example>")
    assert ref is not None and ref.record_id == first.record_id


def test_an_ignored_email_is_logged_once(port: Backend) -> None:
    store = port.records
    result = store.record_ignored(
        BOX.upper(),
        "AAMk-9",
        "auto_reply",
        provider="microsoft",
        folder="Archive",
        internet_message_id="m9@customer.example",
        record_id=None,
    )
    row = result.processed
    assert result.fresh and (row.mailbox, row.outcome, row.reason, row.folder) == (
        BOX,
        "ignored",
        "auto_reply",
        "Archive",
    )
    assert row.internet_message_id == "<m9@customer.example>" and row.record_id is None
    again = store.record_ignored(BOX, "AAMk-9", "other", provider="microsoft")
    assert not again.fresh and again.processed == row


def test_quarantine_is_idempotent_and_listed_once(port: Backend) -> None:
    store = port.records
    result = store.quarantine_email(
        BOX, "AAMk-bad", "bad_mime", detail="no boundary", attempts=5, provider="microsoft"
    )
    row = result.processed
    assert result.fresh and (row.outcome, row.reason, row.record_id) == (
        "quarantined",
        "bad_mime",
        None,
    )
    again = store.quarantine_email(BOX, "AAMk-bad", "bad_mime", attempts=6, provider="microsoft")
    assert not again.fresh and again.processed == row
    assert store.processed_outcome(BOX, "AAMk-bad") == row
    assert port.quarantined() == [("AAMk-bad", "bad_mime")]


def test_acknowledgements_are_limited_per_recipient_and_idempotent(port: Backend) -> None:
    store = port.records

    def reserve(job_id: str, recipient: str) -> bool:
        return store.reserve_ack(
            job_id, mailbox=BOX, recipient=recipient, record_id=1, limit=2, window=timedelta(1)
        )

    assert reserve("j1", "ann@customer.example") and reserve("j2", "ANN@customer.example")
    assert not reserve("j3", "ann@customer.example")
    assert reserve("j1", "ann@customer.example"), "asking again for a reserved job"
    assert reserve("j4", "bob@customer.example")
    assert store.ack_reserved("j1") and store.ack_reserved("j4")
    assert not store.ack_reserved("j3")


def test_an_outbound_message_is_stored_once_by_its_message_id(port: Backend) -> None:
    store = port.records
    record_id = store.create_record_with_message(inbound(1, mailbox=BOX)).record_id
    assert record_id is not None
    port.close_record(record_id)
    ref, fresh = store.record_outbound(record_id, outbound(1))
    assert fresh and (ref.record_id, ref.direction, ref.kind) == (record_id, "out", "outbound")
    assert ref.internet_message_id == "<out1@mailpipe.example.com>"
    again, fresh = store.record_outbound(record_id, outbound(1, subject="other"))
    assert not fresh and again == ref
    summary = store.record_summary(record_id)
    assert summary is not None and (summary.status, summary.message_count) == ("closed", 2)
    assert store.find_record_by_message_ids(BOX, ["<out1@mailpipe.example.com>"]) == record_id
    with pytest.raises(RecordNotFound):
        store.record_outbound(record_id + 1, outbound(2))
    with pytest.raises(ValueError):
        store.record_outbound(record_id, outbound(3, internet_message_id=None))


def test_the_outbox_keeps_a_job_once_until_confirmed(port: Backend) -> None:
    store = port.records
    assert store.add_job("j1", BOX.upper(), '{"a": 1}', delay=timedelta(seconds=30))
    assert not store.add_job("j1", BOX, '{"b": 2}', published=True, delay=timedelta(0))
    assert store.add_job("j2", BOX, "{}", published=True, delay=timedelta(0))
    row = store.outbox_job("j1")
    assert row is not None
    assert (row.mailbox, row.body, row.attempts, row.created_at) == (BOX, '{"a": 1}', 0, NOW)
    assert (row.published_at, row.result_status, row.result) == (None, None, None)
    job2 = store.outbox_job("j2")
    assert job2 is not None and job2.attempts == 1
    store.mark_published(["j1", "nope"])
    row = store.outbox_job("j1")
    assert row is not None and row.published_at == NOW
    assert store.confirm_job("j1", "sent", '{"status": "sent"}')
    assert not store.confirm_job("j1", "failed", "{}")
    assert not store.confirm_job("nope", "sent", "{}")
    row = store.outbox_job("j1")
    assert row is not None and (row.result_status, row.result) == ("sent", '{"status": "sent"}')
    assert store.outbox_job("nope") is None


def test_the_senders_log_answers_what_was_sent(port: Backend) -> None:
    assert port.records.logged_send("j1") is None
    port.log_sent("j1", BOX, 7, "<out1@mailpipe.example.com>")
    facts = port.records.logged_send("j1")
    assert facts == LoggedFacts(BOX, 7, "<out1@mailpipe.example.com>")


def test_a_unit_that_raises_leaves_nothing(port: Backend) -> None:
    store = port.records
    with pytest.raises(RuntimeError), store.unit():
        store.create_record_with_message(inbound(1, mailbox=BOX))
        store.add_job("j1", BOX, "{}", delay=timedelta(0))
        raise RuntimeError("the handler failed")
    assert store.processed_outcome(BOX, "AAMk-1") is None and store.outbox_job("j1") is None
    with store.unit():
        store.create_record_with_message(inbound(1, mailbox=BOX))
    assert store.processed_outcome(BOX, "AAMk-1") is not None


def test_the_requester_cache(port: Backend) -> None:
    assert port.cache.get_requester("ann@customer.example") is None
    ann = Requester("Ann@Customer.example", NOW, name="Ann", department="Sales", in_tenant=True)
    port.cache.put_requester(ann)
    assert port.cache.get_requester("ANN@customer.example") == dataclasses.replace(
        ann, address="ann@customer.example"
    )
    port.cache.put_requester(dataclasses.replace(ann, department="Support"))
    found = port.cache.get_requester("ann@customer.example")
    assert found is not None and found.department == "Support"
