"""``mailpipe run`` loses no acknowledgement: ``kill -9`` while they are queued in memory, start
again, and every one is sent exactly once. And ``mailpipe send`` reaches a running ``run``
through the database's outbox. The kill runs on both providers (the ``provider`` fixture)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from libs.common.db.schema import outbox
from libs.graphsim.testing import running_simulator
from services.ticketer.store import RecordStore
from tests.e2e.harness import REPO
from tests.e2e.test_embedded import mailpipe_run, records, running_sim
from tests.integration.fetcher_rig import SUPPORT, mail

MAILS = 10


def _outbox(database_url: str) -> tuple[int, int]:
    """(jobs in the outbox, jobs the sender has not answered)."""
    store = RecordStore.open(database_url, migrate=False)
    try:
        with store.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(outbox)).scalar_one()
        return int(total), store.pending_jobs()
    finally:
        store.close()


def test_kill_9_with_queued_acknowledgements_then_restart_sends_each_once(
    tmp_path: Path, provider: str
) -> None:
    database_url = f"sqlite:///{tmp_path / 'mailpipe.db'}"
    with running_sim(provider, tmp_path) as sim:
        # Two sends a minute: the first two acknowledgements go, the rest wait in memory.
        with mailpipe_run(tmp_path, sim, database_url, MAILPIPE_SENDER_RATE_PER_MINUTE="2") as run:
            run.wait_for(run.ready, "ready")
            for n in range(MAILS):
                raw = mail(n, sender=f"customer{n}@customer.example")  # one ack each
                run.control.post(f"/_sim/mailboxes/{SUPPORT}/messages", content=raw)
            # The mail is removed too: nothing is read again after the restart, so only the
            # outbox can bring the queued acknowledgements back.
            run.wait_for(
                lambda: (
                    _outbox(database_url)[0] == MAILS
                    and run.folders()["inbox"] == 0
                    and run.removed() == MAILS
                    and len(run.sent()) >= 1
                ),
                "every acknowledgement stored, the mail removed, the first ack sent",
            )
            run.proc.kill()  # SIGKILL: nothing drains, the in-memory queues are gone
            run.proc.wait()
            before = len(run.sent())
        assert 0 < before < MAILS, "the kill must leave acknowledgements unsent"
        assert len(records(database_url)) == MAILS

        # Again, with a short stale claim: a job the killed sender held is taken over soon.
        with mailpipe_run(tmp_path, sim, database_url, MAILPIPE_SENDER_STALE_CLAIM_S="3") as run:
            run.wait_for(
                lambda: len(run.sent()) >= MAILS and _outbox(database_url)[1] == 0,
                "every acknowledgement sent and answered after the restart",
            )
            assert run.terminate() == 0, run.log()
            sent = run.sent()

    found = records(database_url)
    assert sorted(str(m["subject"]) for m in sent) == sorted(
        f"Re: [#{r.id}] {r.subject}" for r in found
    ), "each record's acknowledgement exactly once"
    assert _outbox(database_url) == (MAILS, 0)


def test_send_reaches_a_running_pipeline_through_the_outbox(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'mailpipe.db'}"
    with (
        running_simulator(tmp_path / "graphsim", [SUPPORT]) as sim,
        mailpipe_run(tmp_path, sim, database_url) as run,
    ):
        run.wait_for(run.ready, "ready")
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPIPE_")}
        env.update(
            MAILPIPE_DATABASE_URL=database_url,
            MAILPIPE_BLOB_DIR=str(tmp_path / "blobs"),
            MAILPIPE_AMQP_URL="memory://",
        )
        args = ["--mailbox", SUPPORT, "--to", "customer@example.org", "--body", "Hello"]
        args += ["--subject", "From the CLI", "--job-id", "cli-outbox-1", "--wait"]
        done = subprocess.run(
            [sys.executable, "-m", "mailpipe", "send", *args, "--timeout", "60"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr + run.log()
        assert '"status": "sent"' in done.stdout and '"job_id": "cli-outbox-1"' in done.stdout
        subjects = [str(m["subject"]) for m in run.sent()]
        assert subjects.count("From the CLI") == 1
        assert run.terminate() == 0, run.log()
