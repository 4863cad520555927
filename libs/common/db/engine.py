"""Engines and transactions for SQLite and PostgreSQL, and the database error split.

SQLite: WAL (readers never block the writer), a busy timeout (writers queue instead of failing),
foreign keys on, and write transactions opened with ``BEGIN IMMEDIATE`` so that two writers
serialise at BEGIN rather than deadlock when both try to upgrade a read lock.
PostgreSQL: psycopg 3, ``pool_pre_ping`` so a connection the server dropped is replaced
before use rather than failing the work; a database that is not UTF8 is refused on connect
(:mod:`libs.common.db.encoding`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from libs.common.db.encoding import refuse_other_encodings
from libs.common.db.errors import StoreError, StoreUnavailable
from libs.common.redact import redact_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
_WRITE = "mailpipe_write"


def parse_url(database_url: str) -> URL:
    """The URL, with ``postgresql://`` meaning psycopg 3 (the driver mailpipe installs)."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        # The URL itself may hold a password: never echo it.
        raise StoreError(
            "the database URL cannot be parsed",
            hint="set MAILPIPE_DATABASE_URL to sqlite:///path.db or "
            "postgresql+psycopg://user@host:5432/dbname",
        ) from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def safe_url(url: URL | str) -> str:
    """The URL for messages: password hidden."""
    if isinstance(url, str):
        url = parse_url(url)
    # SQLAlchemy hides the password of the user part, not one given as ?password=.
    return redact_url(url.render_as_string(hide_password=True))


def make_engine(database_url: str) -> Engine:
    """An engine for the mailpipe database. Connects lazily, at the first query."""
    url = parse_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url)
    if backend == "postgresql":
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
        # First among the connect listeners: before SQLAlchemy's own first query, which a
        # SQL_ASCII database answers in bytes (TypeError) instead of text.
        event.listen(engine, "connect", refuse_other_encodings, insert=True)
        return engine
    raise StoreError(
        f"unsupported database {backend!r}",
        hint="use sqlite:///path.db or postgresql+psycopg://user@host:5432/dbname",
    )


def _sqlite_engine(url: URL) -> Engine:
    if not url.database or url.database == ":memory:":
        raise StoreError(
            "an in-memory SQLite database is not shared between connections",
            hint="give a file: sqlite:///mailpipe.db",
        )
    parent = Path(url.database).expanduser().resolve().parent
    if not parent.is_dir():
        raise StoreError(
            f"the folder for the SQLite database does not exist: {parent}",
            hint="create the folder or point MAILPIPE_DATABASE_URL elsewhere",
        )
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (pysqlite's own BEGIN is deferred and commits before DDL).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            _use_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL once (the mode is stored in the file). The switch needs the
    file to itself, and SQLite refuses it at once, without waiting out ``busy_timeout``,
    while another process has it open: two services starting on a new file at the same
    time. So look first, and try the switch again for a while when refused."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        mode = cursor.execute("PRAGMA journal_mode").fetchone()
        if mode is not None and str(mode[0]).lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


@contextmanager
def transaction(engine: Engine, *, write: bool) -> Iterator[Connection]:
    """One transaction; committed when the block ends, rolled back when it raises.

    ``IntegrityError`` passes through untouched (callers resolve races with it); every other
    database error becomes :class:`StoreUnavailable` or :class:`StoreError`.
    """
    with translate_errors(), engine.connect() as conn:
        conn.execution_options(**{_WRITE: write})
        with conn.begin():
            yield conn


@contextmanager
def translate_errors() -> Iterator[None]:
    try:
        yield
    except IntegrityError:
        raise
    except (OperationalError, InterfaceError, PoolTimeout) as exc:
        raise StoreUnavailable(f"database unavailable: {describe(exc)}") from None
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise StoreUnavailable(f"database connection lost: {describe(exc)}") from None
        raise StoreError(
            f"database error: {describe(exc)}",
            hint="check the database schema (`mailpipe migrate`) and the server log",
        ) from None
    except SQLAlchemyError as exc:
        raise StoreError(
            f"database error: {exc.__class__.__name__}",
            hint="check the database URL and schema (`mailpipe migrate`)",
        ) from None


def describe(exc: SQLAlchemyError) -> str:
    """The driver's first line only: SQL text and parameters (mail content) stay out."""
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [""])[0][:300]
    return f"{orig.__class__.__name__}: {first}"
