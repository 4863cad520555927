"""``mailpipe run``: the three services in one process over ``memory://`` and SQLite, against
the Graph simulator. Seeded mail becomes records, the inbox empties, acknowledgements go out,
and SIGTERM drains and exits 0. MAILPIPE_AMQP_URL names a broker that does not exist, so the
run proves it needs none."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from libs.graphsim.testing import running_simulator
from services.ticketer.store import RecordStore
from tests.e2e.harness import REPO, config_toml, free_port
from tests.integration.fetcher_rig import SUPPORT, mail

RECOVERABLE = "recoverableitemsdeletions"


def wait_for(predicate: Callable[[], bool], what: str, proc: subprocess.Popen[bytes]) -> None:
    """Poll until ``predicate`` holds; fail, naming ``what``, if the process dies first."""
    deadline = time.monotonic() + 120
    while not predicate():
        assert proc.poll() is None, f"mailpipe run exited ({proc.returncode}) before: {what}"
        assert time.monotonic() < deadline, f"timed out waiting for: {what}"
        time.sleep(0.2)


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as resp:
            return int(resp.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def test_run_turns_mail_into_records_and_stops_on_sigterm(tmp_path: Path) -> None:
    with running_simulator(tmp_path / "graphsim", [SUPPORT]) as sim:
        config = tmp_path / "mailpipe.toml"
        config.write_text(
            config_toml(sim, [SUPPORT], {}, {"auto_acknowledge": True, "poll_interval_s": 0.5})
        )
        config.chmod(0o600)
        with sim.control() as control:
            for n in range(3):
                control.post(f"/_sim/mailboxes/{SUPPORT}/messages", content=mail(n))

            def folders() -> dict[str, int]:
                return dict(control.get(f"/_sim/mailboxes/{SUPPORT}").json()["folders"])

            def sent() -> list[dict[str, object]]:
                return list(control.get(f"/_sim/mailboxes/{SUPPORT}/sent").json())

            database_url = f"sqlite:///{tmp_path / 'mailpipe.db'}"
            port = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPIPE_")}
            env.update(
                MAILPIPE_CONFIG=str(config),
                MAILPIPE_DATABASE_URL=database_url,
                MAILPIPE_BLOB_DIR=str(tmp_path / "blobs"),
                MAILPIPE_HEALTH_PORT=str(port),
                # Not used by `run`: nothing listens there.
                MAILPIPE_AMQP_URL="amqp://guest:guest@127.0.0.1:1//",
                PYTHONUNBUFFERED="1",
            )
            log_path = tmp_path / "run.log"
            with log_path.open("wb") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "mailpipe", "run"],
                    cwd=REPO,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
                try:
                    wait_for(lambda: ready(port), "ready", proc)
                    wait_for(
                        lambda: folders()["inbox"] == 0 and folders().get(RECOVERABLE) == 3,
                        "inbox emptied",
                        proc,
                    )
                    wait_for(lambda: len(sent()) == 3, "three acknowledgements sent", proc)
                    proc.send_signal(signal.SIGTERM)
                    code = proc.wait(timeout=60)
                finally:
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait()
            final_sent = sent()

    output = log_path.read_text(errors="replace")
    assert code == 0, output[-3000:]
    store = RecordStore.open(database_url)
    try:
        records = store.list_records()
    finally:
        store.close()
    assert sorted(r.subject for r in records) == ["Request 0", "Request 1", "Request 2"]
    assert all(r.message_count == 2 for r in records), "each record: the request and its ack"
    assert sorted(str(m["subject"]) for m in final_sent) == sorted(
        f"Re: [#{r.id}] {r.subject}" for r in records
    )
    assert "memory://" in output
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    services = {e.get("service") for e in events}
    assert {"fetcher", "ticketer", "sender"} <= services
    assert any(e["event"] == "stopped" for e in events)
    assert sim.client_secret not in output
