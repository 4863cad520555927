"""Migrations of the one shared database, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from libs.common.db import (
    SchemaError,
    current_revision,
    ensure_schema,
    head_revision,
    migrate,
)
from libs.common.db.engine import make_engine
from libs.common.db.schema import metadata

TABLES = {
    "records",
    "record_messages",
    "record_attachments",
    "delivery_failures",
    "requesters",
    "quarantine",
    "processed_log",
    "sent_jobs",
    "send_slots",
    "mail_cursors",
    "ack_log",
    "outbox",
    "blobs",
    "blob_chunks",
    "console_users",
    "console_sessions",
    "console_login_failures",
    "console_audit",
    "integration_checks",
    "integrations",
    "integrations_revision",
    "mailbox_health",
    "record_replies",
    "push_subscriptions",
    "record_changes",
}

MIGRATE_SCRIPT = "import sys; from libs.common.db import migrate; migrate(sys.argv[1])"


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrate_from_empty_creates_every_table(database_url: str) -> None:
    assert current_revision(database_url) is None
    migrate(database_url)
    assert current_revision(database_url) == head_revision() == "0020"
    assert _tables(database_url) == TABLES | {"alembic_version"}


def test_migrate_twice_is_a_no_op(database_url: str) -> None:
    assert ensure_schema(database_url) is True
    migrate(database_url)
    assert ensure_schema(database_url) is False
    assert current_revision(database_url) == head_revision()
    assert _tables(database_url) == TABLES | {"alembic_version"}


def test_migrated_schema_matches_the_query_tables(database_url: str) -> None:
    migrate(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert diff == []


def _run_together(script: str, args: list[str], count: int, cwd: Path) -> list[str]:
    """``count`` Python processes running ``script`` at once; each must exit 0; their output."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (_out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err[-2000:]
    return [out for out, _err in results]


def test_concurrent_migrations_from_two_processes(database_url: str, tmp_path: Path) -> None:
    # From a working directory outside the repository: script_location comes from the package.
    _run_together(MIGRATE_SCRIPT, [database_url], 2, tmp_path)
    assert current_revision(database_url) == head_revision()
    assert _tables(database_url) == TABLES | {"alembic_version"}
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    finally:
        engine.dispose()
    assert [v[0] for v in versions] == [head_revision()]


def test_a_database_from_a_newer_version_is_refused(database_url: str) -> None:
    migrate(database_url)
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        engine.dispose()
    with pytest.raises(SchemaError) as caught:
        ensure_schema(database_url)
    assert "9999" in str(caught.value)
    assert caught.value.hint
    with pytest.raises(SchemaError):
        migrate(database_url)


#: One service's start on a SQLite file: wait for the common start time, migrate, connect.
OPEN_SCRIPT = """
import sys, time
from sqlalchemy import text
from libs.common.db import ensure_schema
from libs.common.db.engine import make_engine
start = float(sys.argv[2])
while time.time() < start:
    pass
ensure_schema(sys.argv[1])
engine = make_engine(sys.argv[1])
with engine.connect() as conn:
    print(conn.execute(text("PRAGMA journal_mode")).scalar_one())
"""


def test_services_opening_a_new_sqlite_file_together_all_start(tmp_path: Path) -> None:
    """The ticketer and the sender of one host start together on a new file: the switch to
    WAL and the migration wait for each other instead of failing with "database is locked"."""
    for round_ in range(2):
        url = f"sqlite:///{tmp_path}/race-{round_}.db"
        start = time.time() + 1.5  # every process is up and spinning by then
        outputs = _run_together(OPEN_SCRIPT, [url, str(start)], 4, tmp_path)
        assert [out.strip() for out in outputs] == ["wal"] * 4
