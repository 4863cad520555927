"""Threads across ticketers, on SQLite and PostgreSQL: two ticketers (each with its own store
and connections) handling a request and its reply at the same moment end in one record,
whichever of the two reaches the database first; the thread locks never deadlock; a request
stored after its answer finds the answer's record."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import text

from libs.common.broker.policy import Delivery
from libs.common.contracts import InboundEmail, MailHeaders
from libs.common.settings import MailboxConfig, MailpipeConfig
from services.ticketer.handler import Ticketer
from services.ticketer.store import NewMessage, RecordStore, WriteResult
from services.ticketer.store.threadlocks import LOCK_TIMEOUT
from tests.blobs_fake import FakeBlobs
from tests.broker_helpers import wait_until
from tests.db_fixtures import inbound
from tests.integration.test_ticketer_rig import BOX, mail
from tests.unit.test_ticketer_handler import FakeOutbox

DELIVERY = Delivery(message_id="x", correlation_id="c")
CONFIG = MailpipeConfig(
    mailboxes=(MailboxConfig(address=BOX, tenant_id="t", client_id="c", client_secret="s"),)
)


class Paused(RecordStore):
    """A store whose first record write (inside its unit, its threads locked, its lookups
    answered) first runs ``on_write``."""

    on_write: Callable[[], None] | None = None
    units_opened = 0

    @contextmanager
    def unit(self, threads: Any = ()) -> Iterator[None]:
        self.units_opened += 1
        with super().unit(threads):
            yield

    def create_record_with_message(self, msg: NewMessage, **kw: Any) -> WriteResult:
        self._pause()
        return super().create_record_with_message(msg, **kw)

    def append_message(self, record_id: int, msg: NewMessage, **kw: Any) -> WriteResult:
        self._pause()
        return super().append_message(record_id, msg, **kw)

    def _pause(self) -> None:
        hook, self.on_write = self.on_write, None
        if hook is not None:
            hook()


class Announcing(RecordStore):
    """A store that says when a unit is asked for (before it waits for any lock)."""

    entering = threading.Event()

    @contextmanager
    def unit(self, threads: Any = ()) -> Iterator[None]:
        self.entering.set()
        with super().unit(threads):
            yield


def waiting_advisory_locks(store: RecordStore) -> int:
    with store.engine.connect() as conn:
        query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        return int(conn.execute(text(query)).scalar_one())


def request_and_reply() -> tuple[InboundEmail, InboundEmail]:
    request = mail(1)
    headers = MailHeaders(
        in_reply_to="<m1@customer.example>", references=("<m1@customer.example>",)
    )
    reply = mail(2, conversation_id="conv-2", subject="Re: Printer 1", headers=headers)
    return request, reply


@pytest.mark.parametrize("first", ["request", "reply"])
def test_a_request_and_its_reply_in_two_ticketers_at_once_make_one_record(
    database_url: str, first: str
) -> None:
    request, reply = request_and_reply()
    a_mail, b_mail = (request, reply) if first == "request" else (reply, request)
    store_a, store_b = Paused.open(database_url), Announcing.open(database_url)
    b_entering = Announcing.entering = threading.Event()
    ticketer_a = Ticketer(store_a, FakeBlobs(), FakeOutbox(), CONFIG)
    ticketer_b = Ticketer(store_b, FakeBlobs(), FakeOutbox(), CONFIG)
    results: list[object] = []
    b = threading.Thread(
        target=lambda: results.extend(ticketer_b.handle_batch([(b_mail, DELIVERY)]))
    )

    seen: dict[str, bool] = {}

    def while_a_holds_its_unit() -> None:
        # Noted, not asserted: a raise here would only roll A's batch back (handled again).
        b.start()
        seen["b_started"] = b_entering.wait(30)
        if store_a.dialect == "postgresql":
            # B queues behind A's thread lock instead of reading a database without A's mail.
            seen["b_waited"] = wait_until(lambda: waiting_advisory_locks(store_b) == 1)

    store_a.on_write = while_a_holds_its_unit
    try:
        assert ticketer_a.handle_batch([(a_mail, DELIVERY)]) == [None]
        b.join(60)
        assert results == [None]
        assert seen["b_started"], "the other ticketer never started its batch"
        assert seen.get("b_waited", True), "the other ticketer did not wait for the thread lock"
        assert store_a.units_opened == 1, "A's batch was applied whole, never rolled back"
        [record] = store_a.list_records()
        assert record.message_count == 2
        detail = store_a.get_record(record.id)
        assert detail is not None
        mids = {m.internet_message_id for m in detail.messages}
        assert mids == {"<m1@customer.example>", "<m2@customer.example>"}
    finally:
        store_a.close()
        store_b.close()


def test_overlapping_thread_locks_given_in_any_order_never_deadlock(database_url: str) -> None:
    """Each unit locks 40 keys shared with the other thread, listed in its own random order."""
    keys = [f"{BOX} <t{n}@x>" for n in range(40)]
    stores = [RecordStore.open(database_url) for _ in range(2)]
    failures: list[BaseException] = []

    def run(store: RecordStore, seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(60):
                mine = rng.sample(keys, len(keys))
                with store.unit(mine):
                    store.processed_outcome(BOX, "nothing")
        except BaseException as exc:  # reported below: a deadlock or a lock timeout
            failures.append(exc)

    workers = [threading.Thread(target=run, args=(s, n)) for n, s in enumerate(stores)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(120)
        assert failures == []
        assert not any(worker.is_alive() for worker in workers)
    finally:
        for store in stores:
            store.close()


def test_the_record_answering_a_message_is_found(store: RecordStore) -> None:
    answer = inbound(2, in_reply_to="<m1@customer.example>", references=("<m1@customer.example>",))
    made = store.create_record_with_message(answer)
    record_id = made.processed.record_id
    assert store.find_record_answering("HELP@example.com", "m1@customer.example") == record_id
    assert store.find_record_answering("help@example.com", "<m9@customer.example>") is None
    assert store.find_record_answering("other@example.com", "<m1@customer.example>") is None
    later = store.create_record_with_message(inbound(3, in_reply_to="<m1@customer.example>"))
    assert later.processed.record_id != record_id
    assert store.find_record_answering("help@example.com", "<m1@customer.example>") == record_id


def test_a_unit_holds_its_thread_locks_under_its_lock_timeout_until_it_ends(
    store: RecordStore,
) -> None:
    """One statement sets the unit's lock timeout and takes its locks (PostgreSQL); SQLite's
    unit takes none (its BEGIN IMMEDIATE queues the writers)."""
    keys = [f"{BOX} <t{n}@x>" for n in range(3)]
    held = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    )
    postgres = store.dialect == "postgresql"
    with store.unit(keys), store._write() as conn:
        if postgres:
            assert conn.execute(text("SHOW lock_timeout")).scalar() == LOCK_TIMEOUT
            assert conn.execute(held).scalar() == len(keys)
        else:
            assert conn.in_transaction()
    if postgres:  # released with the transaction, and the timeout was the transaction's own
        with store._read() as conn:
            assert conn.execute(held).scalar() == 0
            assert conn.execute(text("SHOW lock_timeout")).scalar() != LOCK_TIMEOUT
