"""``mailpipe run`` with a Google mailbox, against the Gmail simulator: the services pick the
Gmail adapter through the mail port; a seeded mail becomes one record and goes to the trash,
and the auto-acknowledgement goes out through Gmail, in the record's thread."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from libs.gmailsim.config import config_toml
from libs.gmailsim.testing import GmailSimHandle
from services.ticketer.store import RecordStore
from tests.gmailsim_helpers import counts, mail, seed
from tests.integration.fetcher_rig import until
from tests.integration.test_config_live_run import _free_port
from tests.integration.test_config_source import REPO, _wait_for

from .gmail_adapter_helpers import BOX, sent

pytestmark = pytest.mark.timeout(180)


def _config(sim: GmailSimHandle, tmp_path: Path) -> Path:
    key = tmp_path / "key.json"
    key.write_text(json.dumps(sim.key_info))
    text = config_toml(sim.root_url, sim.ca_bundle, key, [BOX])
    path = tmp_path / "mailpipe.toml"
    path.write_text(text + "poll_interval_s = 0.5\nauto_acknowledge = true\n")
    return path


def test_mailpipe_run_turns_gmail_mail_into_a_record(gsim: GmailSimHandle, tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'mailpipe.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPIPE_")}
    env.update(
        MAILPIPE_CONFIG=str(_config(gsim, tmp_path)),
        MAILPIPE_DATABASE_URL=database_url,
        MAILPIPE_BLOB_DIR=str(tmp_path / "blobs"),
        MAILPIPE_HEALTH_PORT=str(_free_port()),
        PYTHONUNBUFFERED="1",
    )
    raw = mail("Printer jammed", frm="Jane <jane@customer.test>", msgid="<q1@customer.test>")
    inbound = seed(gsim, BOX, raw)
    log = tmp_path / "run.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mailpipe", "run", "--no-web"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(proc, log, "running")
        until(lambda: counts(gsim, BOX)["labels"].get("trash") == 1, 90)
        until(lambda: len(sent(gsim)) == 1, 60)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert counts(gsim, BOX)["labels"]["inbox"] == 0
    store = RecordStore.open(database_url)
    try:
        (record,) = store.list_records()
    finally:
        store.close()
    assert (record.mailbox, record.subject) == (BOX, "Printer jammed")
    (ack,) = sent(gsim)
    assert ack["to"] == ["jane@customer.test"] and ack["thread_id"] == inbound["threadId"]
