"""Planner statistics (``RecordStore.refresh_statistics``): on PostgreSQL a table that grew is
analyzed once, after which the Message-ID lookup uses the unique index; nothing to do right
after that, and nothing at all on SQLite."""

from __future__ import annotations

from sqlalchemy import text

from services.ticketer.store import RecordStore
from tests.broker_helpers import wait_until
from tests.db_fixtures import inbound

PLAN = (
    "EXPLAIN SELECT * FROM record_messages "
    "WHERE mailbox = 'help@example.com' AND internet_message_id = '<m7@customer.example>'"
)


def test_tables_that_grew_are_analyzed_once(store: RecordStore) -> None:
    for n in range(1, 701):
        store.create_record_with_message(inbound(n))
    if store.dialect != "postgresql":
        assert store.refresh_statistics() == []
        return
    # The server publishes its table counters within a second or so of the commits.
    analyzed: list[str] = []

    def analyzed_three() -> bool:
        analyzed.extend(store.refresh_statistics())
        return len(analyzed) >= 3

    assert wait_until(analyzed_three)
    assert set(analyzed) == {"records", "record_messages", "processed_log"}
    assert store.refresh_statistics() == [], "nothing changed since"
    with store.engine.connect() as conn:
        plan = "\n".join(str(row[0]) for row in conn.execute(text(PLAN)))
    assert "uq_record_messages_mailbox_internet_message_id" in plan
