"""A record's history of status and assignment (record_changes, 0019): the console's changes
each add one row in their transaction (none when nothing changes), a customer reply that
reopens a closed or pending record adds its row (none when it was open, none for a note), on
SQLite and on PostgreSQL's one-statement append."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import update

from libs.common.db.record_changes import CUSTOMER_REPLY, RecordChanges
from libs.common.db.record_views import RecordViews
from libs.common.db.schema import records
from services.ticketer.store import RecordStore
from services.web.store import ConsoleStore
from tests.db_fixtures import inbound


@pytest.fixture
def changes(store: RecordStore) -> Iterator[RecordChanges]:
    yield RecordChanges(store.engine)


def _new_record(store: RecordStore) -> int:
    record = store.create_record_with_message(inbound(1)).record_id
    assert record is not None
    return record


def _rows(changes: RecordChanges, record: int) -> list[tuple[str, str, str, str]]:
    return [(c.kind, c.old_value, c.new_value, c.changed_by) for c in changes.history(record)]


@pytest.mark.parametrize("was", ["closed", "pending"])
def test_a_customer_reply_reopening_a_record_is_one_row(
    store: RecordStore, changes: RecordChanges, was: str
) -> None:
    record = _new_record(store)
    store.set_status(record, was)  # type: ignore[arg-type]  # a status by name
    store.append_message(record, inbound(2, kind="reply"))
    store.append_message(record, inbound(3, kind="reply"))  # already open: no row
    assert _rows(changes, record) == [("status", was, "open", CUSTOMER_REPLY)]
    line = RecordViews(store.engine).get(record)
    assert line is not None and line.status == "open" and line.message_count == 3


def test_a_note_or_a_reply_to_an_open_record_adds_no_row(
    store: RecordStore, changes: RecordChanges
) -> None:
    record = _new_record(store)
    store.append_message(record, inbound(2, kind="reply"))
    store.set_status(record, "closed")
    store.append_message(record, inbound(3, kind="auto_reply"), reopen=False)
    assert _rows(changes, record) == []


def test_console_changes_are_rows_with_who_and_the_names(
    store: RecordStore, changes: RecordChanges
) -> None:
    console = ConsoleStore(store.engine)
    bob = console.create_user("bob", "Bob", "agent", "x" * 60)
    record = _new_record(store)
    closed = changes.set_status(record, "closed", "alice", 1)
    assert closed is not None and closed.change is not None
    assert closed.record["status"] == "closed"
    assert changes.set_status(record, "closed", "alice", 1).change is None  # type: ignore[union-attr]
    assigned = changes.assign(record, bob.id, "alice", 1)
    assert assigned is not None and assigned.record["assigned_to"] == bob.id
    changes.assign(record, None, "bob", bob.id)
    assert _rows(changes, record) == [
        ("status", "open", "closed", "alice"),
        ("assigned", "", "bob", "alice"),
        ("assigned", "bob", "", "bob"),
    ]
    assert changes.set_status(999, "open", "alice", 1) is None


def test_a_reply_waiting_on_an_agents_close_still_writes_its_reopen(
    store: RecordStore, changes: RecordChanges
) -> None:
    """The agent's close holds the record's row when the customer's reply comes: the reply
    waits for it, then reopens what is now closed, and says so in the history."""
    record = _new_record(store)
    appended = threading.Event()
    with store.engine.connect() as agent:
        agent.execute(update(records).where(records.c.id == record).values(status="closed"))

        def reply() -> None:
            store.append_message(record, inbound(2, kind="reply"))
            appended.set()

        replying = threading.Thread(target=reply)
        replying.start()
        appended.wait(1.0)  # on PostgreSQL it waits for the row; on SQLite for the file
        agent.commit()
    replying.join(30)
    assert appended.is_set()
    assert _rows(changes, record) == [("status", "closed", "open", CUSTOMER_REPLY)]
    line = RecordViews(store.engine).get(record)
    assert line is not None and line.status == "open" and line.message_count == 2
