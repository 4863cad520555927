"""``mailpipe migrate`` as an operator runs it: a subprocess, the URL from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect

from libs.common.db import current_revision, head_revision
from libs.common.db.engine import make_engine


def _mailpipe_migrate(database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MAILPIPE_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "mailpipe.cli", "migrate"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_migrate_command_brings_an_empty_database_to_head(
    database_url: str, tmp_path: Path
) -> None:
    first = _mailpipe_migrate(database_url, tmp_path)
    assert first.returncode == 0, first.stderr
    # It says where the database is (password hidden), at which revision, and what it did.
    head = head_revision()
    assert first.stdout.startswith("database at ") and first.stdout.count("\n") == 1
    assert f"is at revision {head} (head); created the tables" in first.stdout
    assert current_revision(database_url) == head_revision()
    engine = make_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"records", "sent_jobs", "mail_cursors", "ack_log", "alembic_version"} <= tables

    # Again: nothing to do, same answer.
    again = _mailpipe_migrate(database_url, tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().endswith(f"is at revision {head} (head); nothing to do")


def test_migrate_command_reports_an_unreachable_database_in_one_line(tmp_path: Path) -> None:
    url = "postgresql+psycopg://mailpipe:s3cret-pw@127.0.0.1:1/mailpipe"
    done = _mailpipe_migrate(url, tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("mailpipe migrate: database unavailable")
    assert "s3cret-pw" not in done.stderr


def test_migrate_command_reports_an_unparsable_url_with_a_hint(tmp_path: Path) -> None:
    done = _mailpipe_migrate("not a url: pw=s3cret-pw", tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "MAILPIPE_DATABASE_URL" in line
    assert "s3cret-pw" not in done.stderr
