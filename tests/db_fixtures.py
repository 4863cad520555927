"""Database fixtures: every test of the shared database runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``MAILPIPE_TEST_DATABASE_URL`` (an *admin* URL: the fixture creates and
drops a database per test through it), else the local server on 127.0.0.1:5432 as ``postgres``.
When neither answers the test *fails* and says how to provide one: never a silent skip.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

if TYPE_CHECKING:
    from services.fetcher.state import MailCursors
    from services.sender.joblog import JobLog
    from services.ticketer.store import NewMessage, RecordStore

LOCAL_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

HOW_TO_PROVIDE_POSTGRES = (
    "no PostgreSQL for the tests: start the local server on 127.0.0.1:5432 with user postgres "
    "(`make test` does), or set MAILPIPE_TEST_DATABASE_URL="
    "postgresql+psycopg://user:pass@host:5432/postgres (a user that may CREATE DATABASE)"
)


def _admin_url() -> URL:
    url = make_url(os.environ.get("MAILPIPE_TEST_DATABASE_URL") or LOCAL_ADMIN_URL)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


@pytest.fixture(scope="session")
def postgres_admin_url() -> URL:
    """An admin URL of a reachable PostgreSQL; fails (never skips) when there is none."""
    url = _admin_url()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        pytest.fail(f"{HOW_TO_PROVIDE_POSTGRES} ({exc.__class__.__name__})", pytrace=False)
    finally:
        engine.dispose()
    return url


def _fresh_postgres(admin: URL) -> Iterator[str]:
    name = f"mailpipe_t{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield admin.set(database=name).render_as_string(hide_password=False)
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of its own, once per backend."""
    yield from fresh_database(request, request.param, tmp_path)


def fresh_database(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the test's own on ``backend`` (``sqlite`` or ``postgresql``): for a
    fixture whose own parameters name the backend (a port's contract test: fake, sqlite, ...)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'records.db'}"
        return
    admin: URL = request.getfixturevalue("postgres_admin_url")
    yield from _fresh_postgres(admin)


@pytest.fixture
def store(database_url: str) -> Iterator[RecordStore]:
    """A migrated :class:`RecordStore` on a fresh database."""
    # Imported here: this plugin loads for every test, the store only matters for some.
    from services.ticketer.store import RecordStore

    opened = RecordStore.open(database_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def cursors(database_url: str) -> Iterator[MailCursors]:
    """The fetcher's migrated :class:`MailCursors` on a fresh database."""
    from services.fetcher.state import MailCursors

    opened = MailCursors.open(database_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def job_log(database_url: str) -> Iterator[JobLog]:
    """The sender's migrated :class:`JobLog` on a fresh database."""
    from services.sender.joblog import JobLog

    opened = JobLog.open(database_url)
    try:
        yield opened
    finally:
        opened.close()


class FakeClock:
    """A settable clock: rate windows and stale claims without sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def inbound(n: int, *, mailbox: str = "help@example.com", **overrides: Any) -> NewMessage:
    """A plausible inbound message number ``n``; ``overrides`` replace any field."""
    from services.ticketer.store import NewMessage, Party

    message = NewMessage(
        mailbox=mailbox,
        direction="in",
        kind="request",
        provider="microsoft",
        message_id=f"AAMk-{n}",
        internet_message_id=f"<m{n}@customer.example>",
        conversation_id=f"conv-{n}",
        received_at=datetime(2026, 11, 1, 9, 0, tzinfo=UTC) + timedelta(minutes=n),
        from_=Party(f"user{n}@customer.example", f"User {n}"),
        to=(Party(mailbox, "Helpdesk"),),
        subject=f"Printer {n} is broken",
        body_text=f"Hello, printer {n} jams. Grüße",
    )
    return dataclasses.replace(message, **overrides)
