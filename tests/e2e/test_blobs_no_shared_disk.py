"""The distributed mode without a shared disk: the fetcher and the ticketer as separate
processes, each with a blob folder of its own that neither may use, keep and read attachments
in the database (``MAILPIPE_BLOB_STORE=database``); the same attachment mailed twice is stored
once, and ``mailpipe blobs gc`` keeps what the records name. SQLite and PostgreSQL, on both
providers (Gmail on SQLite: ``HEAVY_MATRIX``)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.harness import REPO, pipeline
from tests.e2e.worlds import HEAVY_MATRIX
from tests.integration.fetcher_rig import SUPPORT, mail

PDF = b"%PDF-1.4 the quarterly report\n" * 5000
PNG = b"\x89PNG\r\n\x1a\n a screenshot" * 100


@pytest.mark.parametrize(("database_url", "provider"), HEAVY_MATRIX, indirect=True)
def test_attachments_travel_through_the_database_and_gc_keeps_what_records_name(
    tmp_path: Path, amqp_url: str, database_url: str, provider: str
) -> None:
    with pipeline(
        tmp_path,
        amqp_url,
        database_url=database_url,
        mailboxes=[SUPPORT],
        provider=provider,
        poll_interval_s=0.5,
    ) as stack:
        for service in ("fetcher", "ticketer"):
            own = tmp_path / f"{service}-disk"
            stack.start(service, MAILPIPE_BLOB_STORE="database", MAILPIPE_BLOB_DIR=str(own))
        for name in stack.processes:
            stack.wait_ready(name)
        stack.seed(mail(1, attachments=[("q.pdf", "application/pdf", PDF)]))
        stack.seed(mail(2, attachments=[("q.pdf", "application/pdf", PDF)]))
        stack.seed(mail(3, attachments=[("shot.png", "image/png", PNG)]))
        stack.wait_until(
            lambda: len(stack.rows("record_attachments")) == 3 and stack.folders()["inbox"] == 0,
            what="three attachments on records, the inbox empty",
        )
        named = {row["sha256"] for row in stack.rows("record_attachments")}
        assert named == {hashlib.sha256(PDF).hexdigest(), hashlib.sha256(PNG).hexdigest()}
        stored = {row["sha256"]: row["size"] for row in stack.rows("blobs")}
        assert stored.items() >= {(hashlib.sha256(PDF).hexdigest(), len(PDF))}, "stored once"
        assert len(stack.rows("blob_chunks")) == len(stored), "each blob under 1 MiB: one chunk"
        assert not [p for p in tmp_path.glob("*-disk/**/*") if p.is_file()], "no disk used"

        env = stack.env(MAILPIPE_BLOB_STORE="database", MAILPIPE_BLOB_GC_GRACE_S="0")
        gc = subprocess.run(
            [sys.executable, "-m", "mailpipe", "blobs", "gc"],
            env={**env, "PYTHONPATH": str(REPO)},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert gc.returncode == 0, gc.stderr
        left = {row["sha256"] for row in stack.rows("blobs")}
        assert left == named, "what the records name stays; nothing else names a blob"
        assert f"{len(stored) - len(named)} deleted" in gc.stdout
