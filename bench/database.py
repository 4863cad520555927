"""The benchmark's database: a fresh SQLite file or a fresh PostgreSQL database (dropped at
the end), and the two checks of the run: lost emails and duplicate records."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

from libs.common.db.engine import parse_url

#: Where a fresh PostgreSQL database is created: ``MAILPIPE_BENCH_POSTGRES_URL`` (a user that
#: may CREATE DATABASE), else the local server as ``postgres``.
LOCAL_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def fresh_database(kind: str, work: Path) -> Iterator[str]:
    """The URL of an empty database of ``kind`` (``sqlite`` or ``postgresql``)."""
    if kind == "sqlite":
        yield f"sqlite:///{work / 'mailpipe.db'}"
        return
    admin = parse_url(os.environ.get("MAILPIPE_BENCH_POSTGRES_URL") or LOCAL_ADMIN_URL)
    name = f"mailpipe_bench_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield admin.set(database=name).render_as_string(hide_password=False)
        finally:
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


@contextmanager
def statements(engine: Engine) -> Iterator[list[int]]:
    """Counts the SQL statements ``engine`` runs inside the block: ``[count]``, kept up to
    date (an ``executemany`` counts once: it is one call, like one round trip or few)."""
    seen = [0]

    def note(*_: object) -> None:
        seen[0] += 1

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _engine(database_url: str) -> Engine:
    return create_engine(parse_url(database_url))


def _query(database_url: str, sql: str) -> list[Any]:
    """The rows of one read of the run's database (its own engine, disposed after)."""
    engine = _engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)).all())
    finally:
        engine.dispose()


#: The inbound messages stored with a record.
_INBOUND = "FROM record_messages WHERE direction = 'in' AND message_id IS NOT NULL"


def inbound_rows(database_url: str) -> list[tuple[str, str, str | None]]:
    """(mailbox, graph id, Message-ID) of every inbound message stored with a record."""
    rows = _query(database_url, f"SELECT mailbox, message_id, internet_message_id {_INBOUND}")
    return [(str(r[0]), str(r[1]), None if r[2] is None else str(r[2])) for r in rows]


def record_count(database_url: str) -> int:
    return int(_query(database_url, "SELECT count(*) FROM records")[0][0])


def stored_at(database_url: str) -> dict[str, float]:
    """Graph id → when its inbound message was stored with a record (epoch seconds)."""
    rows = _query(database_url, f"SELECT message_id, created_at {_INBOUND}")
    return {str(r[0]): _epoch(r[1]) for r in rows}


def _epoch(value: object) -> float:
    """A stored UTC time as epoch seconds (SQLite hands back text, PostgreSQL a datetime)."""
    from datetime import UTC, datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
