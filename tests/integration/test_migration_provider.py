"""Revision 0006: provider-neutral names. Rows stored before keep their ids under the new
names and are Microsoft's; the fetcher's delta links are its cursors; a downgrade gives the
old names back. Both backends."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.engine import Connection

from libs.common.db import current_revision, head_revision, migrate
from libs.common.db.engine import make_engine, transaction
from libs.common.db.migrate import script_location
from libs.common.db.schema import records
from services.fetcher.state import MailCursors
from services.ticketer.store import RecordStore
from tests.db_fixtures import inbound
from tests.integration.tables_0005 import (
    DELTA_STATE,
    PROCESSED_LOG,
    QUARANTINE,
    RECORD_MESSAGES,
    message_values,
)

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
BOX = "help@example.com"
LINK = "https://graph.example/delta?$deltatoken=abc"


def _config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", script_location())
    cfg.attributes["connection"] = conn
    return cfg


def _record(conn: Connection) -> None:
    values = {"id": 1, "mailbox": BOX, "subject": "s", "status": "open", "message_count": 2}
    conn.execute(insert(records).values(**values, created_at=NOW, updated_at=NOW))


def _message(conn: Connection, direction: str, graph_id: str | None, mid: str) -> None:
    kind = "request" if direction == "in" else "outbound"
    values = message_values(BOX, graph_id, NOW, direction=direction, kind=kind)
    conn.execute(insert(RECORD_MESSAGES).values(**values, internet_message_id=mid))


def _at_0005_with_rows(url: str) -> None:
    engine = make_engine(url)
    try:
        with transaction(engine, write=True) as conn:
            command.upgrade(_config(conn), "0005")
            _record(conn)
            _message(conn, "in", "AAMk-1", "<m1@customer.example>")
            _message(conn, "out", None, "<o1@mailpipe.example>")
            log = {"mailbox": BOX, "folder": "inbox", "processed_at": NOW}
            conn.execute(
                insert(PROCESSED_LOG).values(
                    graph_id="AAMk-1", outcome="created", record_id=1, **log
                )
            )
            conn.execute(
                insert(PROCESSED_LOG).values(
                    graph_id="AAMk-9", outcome="quarantined", reason="bad_mime", **log
                )
            )
            conn.execute(
                insert(QUARANTINE).values(
                    mailbox=BOX,
                    graph_id="AAMk-9",
                    folder="inbox",
                    reason="bad_mime",
                    subject="",
                    detail="",
                    attempts=5,
                    created_at=NOW,
                )
            )
            conn.execute(
                insert(DELTA_STATE).values(
                    mailbox=BOX, folder="inbox", delta_link=LINK, updated_at=NOW
                )
            )
    finally:
        engine.dispose()


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def test_rows_stored_before_keep_their_ids_and_are_microsofts(database_url: str) -> None:
    _at_0005_with_rows(database_url)
    migrate(database_url)
    assert current_revision(database_url) == head_revision()
    messages = "SELECT direction, provider, message_id FROM record_messages ORDER BY id"
    assert _rows(database_url, messages) == [("in", "microsoft", "AAMk-1"), ("out", None, None)]
    logged = "SELECT provider, message_id, outcome FROM processed_log ORDER BY id"
    assert _rows(database_url, logged) == [
        ("microsoft", "AAMk-1", "created"),
        ("microsoft", "AAMk-9", "quarantined"),
    ]
    store = RecordStore.open(database_url)
    cursors = MailCursors.open(database_url)
    try:
        [entry] = store.list_quarantine()
        assert (entry.provider, entry.message_id, entry.reason) == (
            "microsoft",
            "AAMk-9",
            "bad_mime",
        )
        done = store.processed_outcome(BOX, "AAMk-1")
        assert done is not None and (done.provider, done.record_id) == ("microsoft", 1)
        again = store.create_record_with_message(inbound(1))
        assert not again.fresh, "the mail stored before is still known by its id"
        assert cursors.get_cursor(BOX, "inbox") == LINK
    finally:
        store.close()
        cursors.close()


def test_the_new_names_have_no_server_default_left(database_url: str) -> None:
    migrate(database_url)
    engine = make_engine(database_url)
    try:
        found = inspect(engine)
        for table in ("quarantine", "processed_log", "mail_cursors"):
            [provider] = [c for c in found.get_columns(table) if c["name"] == "provider"]
            assert provider["nullable"] is False and provider["default"] is None, table
        assert "delta_state" not in found.get_table_names()
    finally:
        engine.dispose()


def test_a_downgrade_gives_the_old_names_back(database_url: str) -> None:
    _at_0005_with_rows(database_url)
    migrate(database_url)
    engine = make_engine(database_url)
    try:
        with transaction(engine, write=True) as conn:
            command.downgrade(_config(conn), "0005")
        with engine.connect() as conn:
            assert conn.execute(select(DELTA_STATE.c.delta_link)).scalar_one() == LINK
            assert conn.execute(select(QUARANTINE.c.graph_id)).scalar_one() == "AAMk-9"
            ids = conn.execute(select(PROCESSED_LOG.c.graph_id).order_by("graph_id")).scalars()
            assert list(ids) == ["AAMk-1", "AAMk-9"]
    finally:
        engine.dispose()
    migrate(database_url)
    assert current_revision(database_url) == head_revision()
