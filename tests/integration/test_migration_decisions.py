"""Revision 0005: each email's decision (change, acknowledgement intent) in the processed log,
and the change of rows stored before it filled in from what they made. Both backends."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import insert
from sqlalchemy.engine import Connection

from libs.common.db import migrate
from libs.common.db.engine import make_engine, transaction
from libs.common.db.migrate import script_location
from libs.common.db.schema import records
from services.ticketer.store import Decided, RecordStore
from tests.db_fixtures import inbound
from tests.integration.tables_0005 import PROCESSED_LOG, RECORD_MESSAGES, message_values

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
BOX = "help@example.com"


def _upgrade_to(conn: Connection, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", script_location())
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)


def _at_0004_with_rows(url: str) -> None:
    engine = make_engine(url)
    try:
        with transaction(engine, write=True) as conn:
            _upgrade_to(conn, "0004")
            conn.execute(
                insert(records).values(
                    id=1,
                    mailbox=BOX,
                    subject="s",
                    status="open",
                    message_count=3,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
            rows = [
                ("g1", "created", "request"),
                ("g2", "appended", "auto_reply"),
                ("g3", "appended", "reply"),
                ("g4", "appended", None),  # its message deleted since
                ("g5", "ignored", None),
            ]
            for message_id, outcome, kind in rows:
                conn.execute(
                    insert(PROCESSED_LOG).values(
                        mailbox=BOX,
                        graph_id=message_id,
                        folder="inbox",
                        outcome=outcome,
                        record_id=None if outcome == "ignored" else 1,
                        processed_at=NOW,
                    )
                )
                if kind is not None:
                    values = message_values(BOX, message_id, NOW, kind=kind)
                    conn.execute(insert(RECORD_MESSAGES).values(**values))
    finally:
        engine.dispose()


def test_rows_stored_before_get_the_change_they_announced(database_url: str) -> None:
    _at_0004_with_rows(database_url)
    migrate(database_url)
    store = RecordStore.open(database_url)
    try:
        found = store.processed_outcomes([(BOX, f"g{n}") for n in range(1, 6)])
    finally:
        store.close()
    changes = {key[1]: (row.change, row.ack) for key, row in found.items()}
    assert changes == {
        "g1": ("new_request", None),
        "g2": ("auto_reply", None),
        "g3": ("reply", None),
        "g4": ("reply", None),
        "g5": (None, None),
    }


def test_a_write_stores_its_decision_and_a_redelivery_reads_it(store: RecordStore) -> None:
    decided = Decided("new_request", "refused:own_domain:example.com")
    first = store.create_record_with_message(inbound(1), decided=decided)
    assert (first.processed.change, first.processed.ack) == (decided.change, decided.ack)
    assert store.processed_outcome(BOX, "AAMk-1") == first.processed
    assert store.create_record_with_message(inbound(1)).processed == first.processed
    record = first.record_id
    assert record is not None
    reply = inbound(2, kind="reply", in_reply_to="<m1@customer.example>")
    appended = store.append_message(record, reply, decided=Decided("reply", "none"))
    [(_, row)] = store.processed_outcomes([(BOX, "AAMk-2")]).items()
    assert row == appended.processed and (row.change, row.ack) == ("reply", "none")
