"""``mailpipe send --outbox`` (or with MAILPIPE_AMQP_URL=memory://): the job is written into the
database's outbox for ``mailpipe run``; a missing or old database is one line and exit 2, and
nothing is created on the way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from libs.common.contracts import OutboundEmail, OutboundResult
from libs.common.db import migrate
from services.ticketer.store import RecordStore
from tests.e2e.harness import REPO

MAILBOX = "support@contoso.com"


def _send(
    database_url: str, tmp_path: Path, *args: str, amqp: str = "amqp://guest:guest@127.0.0.1:1//"
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPIPE_")}
    env.update(
        MAILPIPE_DATABASE_URL=database_url,
        MAILPIPE_BLOB_DIR=str(tmp_path / "blobs"),
        MAILPIPE_AMQP_URL=amqp,
    )
    base = ["--mailbox", MAILBOX, "--to", "customer@example.org", "--subject", "Hi", "--body", "x"]
    return subprocess.run(
        [sys.executable, "-m", "mailpipe", "send", *base, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_job_lands_in_the_outbox_once(database_url: str, tmp_path: Path) -> None:
    migrate(database_url)
    first = _send(database_url, tmp_path, "--outbox", "--job-id", "cli-1")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "cli-1"
    again = _send(database_url, tmp_path, "--job-id", "cli-1", amqp="memory://")
    assert again.returncode == 0, again.stderr
    store = RecordStore.open(database_url, migrate=False)
    try:
        row = store.outbox_job("cli-1")
        assert row is not None and row.attempts == 0 and store.pending_jobs() == 1
        job = OutboundEmail.from_json(row.body)
        assert (job.mailbox, job.subject, [a.address for a in job.to]) == (
            MAILBOX,
            "Hi",
            ["customer@example.org"],
        )
    finally:
        store.close()


def test_wait_prints_the_answer_stored_on_the_job(database_url: str, tmp_path: Path) -> None:
    migrate(database_url)
    store = RecordStore.open(database_url, migrate=False)
    try:
        queued = _send(database_url, tmp_path, "--outbox", "--job-id", "cli-2")
        assert queued.returncode == 0, queued.stderr
        result = OutboundResult.model_validate(
            {
                "job_id": "cli-2",
                "status": "rejected",
                "error_code": "bad",
                "finished_at": "2026-12-02T10:00:00Z",
            }
        )
        store.confirm_job("cli-2", "rejected", result.to_json().decode())
    finally:
        store.close()
    waited = _send(database_url, tmp_path, "--outbox", "--job-id", "cli-2", "--wait")
    assert waited.returncode == 1, waited.stderr  # printed, and not sent
    assert OutboundResult.from_json(waited.stdout).status == "rejected"


def test_no_answer_within_the_timeout_says_what_to_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mailpipe.db'}"
    migrate(url)
    done = _send(url, tmp_path, "--outbox", "--wait", "--timeout", "0.5")
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "in the outbox" in line and "mailpipe run" in line


def test_a_missing_sqlite_database_is_one_line_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.db"
    done = _send(f"sqlite:///{path}", tmp_path, "--outbox")
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "no mailpipe database" in line and "MAILPIPE_DATABASE_URL" in line
    assert not path.exists()


def test_a_database_never_migrated_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    done = _send(f"sqlite:///{path}", tmp_path, "--outbox")
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "mailpipe migrate" in line
