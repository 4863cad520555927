"""``mailpipe run`` on ``MAILPIPE_CONFIG_SOURCE=database`` picks up an integration added while
it runs: the new mailbox's mail is fetched, recorded and removed, without a restart."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from libs.common.db.integrations import Integrations
from libs.common.secret_box import SecretBox, new_key
from libs.graphsim.testing import SimHandle
from tests.integration.fetcher_rig import HELPDESK, SUPPORT, mail, until
from tests.integration.test_config_live import integration
from tests.integration.test_config_source import REPO, _sim_graph, _wait_for


def _inbox(sim: SimHandle, mailbox: str) -> int:
    with sim.control() as control:
        return int(control.get(f"/_sim/mailboxes/{mailbox}").json()["folders"]["inbox"])


def _seed(sim: SimHandle, mailbox: str, raw: bytes) -> None:
    with sim.control() as control:
        control.post(f"/_sim/mailboxes/{mailbox}/messages", content=raw).raise_for_status()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_mailpipe_run_polls_an_integration_added_while_it_runs(
    sim: SimHandle, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'mailpipe.db'}"
    key = new_key()
    store = Integrations.open(database_url)
    store.save(integration(sim, SUPPORT), SecretBox(key))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPIPE_")}
    env.update(
        MAILPIPE_CONFIG_SOURCE="database",
        MAILPIPE_CONFIG=str(_sim_graph(sim, tmp_path / "graph.toml")),
        MAILPIPE_SECRETS_KEY=key,
        MAILPIPE_DATABASE_URL=database_url,
        MAILPIPE_BLOB_DIR=str(tmp_path / "blobs"),
        MAILPIPE_HEALTH_PORT=str(port := _free_port()),
        PYTHONUNBUFFERED="1",
    )
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
        _seed(sim, HELPDESK, mail(1, to=HELPDESK))
        store.save(integration(sim, HELPDESK), SecretBox(key))
        _wait_for(proc, log, "integrations changed; applying", timeout=30)
        until(lambda: _inbox(sim, HELPDESK) == 0, 60)  # fetched, recorded, deleted
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10).json()
        assert ready["checks"][f"mailbox:{HELPDESK}"]["ok"]  # its readiness check too
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]
    finally:
        store.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = log.read_text(errors="replace")
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    handled = {(e["event"], e.get("mailbox"), e.get("outcome")) for e in lines}
    assert ("email handled", HELPDESK, "created") in handled  # a record of the new mailbox
    assert sim.client_secret not in output
