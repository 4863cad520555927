"""``mailpipe run``: the three services in one process over ``memory://`` and SQLite, against
the Graph simulator. Seeded mail becomes records, the inbox empties, acknowledgements go out,
and SIGTERM drains and exits 0. MAILPIPE_AMQP_URL names a broker that does not exist, so the
runs prove they need none. ``mailpipe_run`` runs it against either simulator: the first run
here and the kill in ``test_embedded_outbox.py`` on both providers (the ``provider`` fixture);
reading mail again after a lost queue sets Graph's delta link, and the broker URL is not about
mail."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from libs.common.broker import Broker, Names
from libs.common.graph import GraphMail
from libs.gmailsim.testing import GmailSimHandle
from libs.gmailsim.testing import running_simulator as running_gmailsim
from libs.graphsim.testing import SimHandle, running_simulator
from services.fetcher.state import MailCursors
from services.ticketer.store import RecordStore
from tests.e2e.harness import REPO, free_port
from tests.e2e.worlds import GmailWorld, GraphWorld, MailWorld
from tests.integration.fetcher_rig import SUPPORT, mail

RECOVERABLE = "recoverableitemsdeletions"


@dataclass
class Run:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    control: httpx.Client
    #: Where the web console of ``mailpipe run`` listens.
    web_port: int
    #: The simulator's provider: where removed mail goes, what was sent.
    world: MailWorld

    def wait_for(self, predicate: Callable[[], bool], what: str) -> None:
        """Poll until ``predicate`` holds; fail, naming ``what``, if the process dies first."""
        deadline = time.monotonic() + 120
        while not predicate():
            assert self.proc.poll() is None, f"mailpipe run exited before: {what}\n{self.log()}"
            assert time.monotonic() < deadline, f"timed out waiting for: {what}\n{self.log()}"
            time.sleep(0.2)

    def ready(self) -> bool:
        url = f"http://127.0.0.1:{self.port}/readyz"
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return int(resp.status) == 200
        except (urllib.error.URLError, OSError):
            return False

    def folders(self) -> dict[str, int]:
        """Messages per folder (on Gmail per label): ``inbox``, the world's removed folder …"""
        return self.world.folders(SUPPORT)

    def removed(self) -> int:
        """Messages in the place removed mail goes (Recoverable Items, or Gmail's trash)."""
        return self.folders().get(self.world.removed_folder, 0)

    def sent(self) -> list[dict[str, Any]]:
        """Sent mail in the Graph simulator's shape (``subject``, ``headers`` …)."""
        return self.world.sent(SUPPORT)

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


@contextmanager
def running_sim(provider: str, tmp_path: Path) -> Iterator[SimHandle | GmailSimHandle]:
    """A simulator of ``provider`` holding ``SUPPORT``, for :func:`mailpipe_run`."""
    if provider == "google":
        with running_gmailsim(tmp_path / "gmailsim", [SUPPORT]) as gmail:
            yield gmail
        return
    with running_simulator(tmp_path / "graphsim", [SUPPORT]) as graph:
        yield graph


@contextmanager
def mailpipe_run(
    tmp_path: Path, sim: SimHandle | GmailSimHandle, database_url: str, *args: str, **extra_env: str
) -> Iterator[Run]:
    """``python -m mailpipe run *args`` with a config for ``sim`` (auto-acknowledgement on):
    the Graph simulator, or the Gmail one (``[google]``, directory lookups at it too)."""
    world: MailWorld = GraphWorld(sim) if isinstance(sim, SimHandle) else GmailWorld(sim)
    config = tmp_path / "mailpipe.toml"
    overrides = {"auto_acknowledge": True, "poll_interval_s": 0.5}
    config.write_text(world.config_toml([SUPPORT], {}, overrides, tmp_path))
    config.chmod(0o600)
    port, web_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPIPE_")}
    env.update(
        MAILPIPE_CONFIG=str(config),
        MAILPIPE_DATABASE_URL=database_url,
        MAILPIPE_BLOB_DIR=str(tmp_path / "blobs"),
        MAILPIPE_HEALTH_PORT=str(port),
        MAILPIPE_WEB_PORT=str(web_port),
        MAILPIPE_AMQP_URL="amqp://guest:guest@127.0.0.1:1//",  # nothing listens there
        PYTHONUNBUFFERED="1",
        **extra_env,
    )
    log_path = tmp_path / "run.log"
    with log_path.open("ab") as log, sim.control() as control:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mailpipe", "run", *args],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield Run(proc, port, log_path, control, web_port, world)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def records(database_url: str) -> list[Any]:
    store = RecordStore.open(database_url)
    try:
        return list(store.list_records())
    finally:
        store.close()


def test_run_turns_mail_into_records_and_stops_on_sigterm(tmp_path: Path, provider: str) -> None:
    database_url = f"sqlite:///{tmp_path / 'mailpipe.db'}"
    with (
        running_sim(provider, tmp_path) as sim,
        mailpipe_run(tmp_path, sim, database_url) as run,
    ):
        for n in range(3):
            run.control.post(f"/_sim/mailboxes/{SUPPORT}/messages", content=mail(n))
        run.wait_for(run.ready, "ready")
        console = httpx.get(f"http://127.0.0.1:{run.web_port}/login")
        assert console.status_code == 200 and "Sign in" in console.text
        run.wait_for(lambda: run.folders()["inbox"] == 0 and run.removed() == 3, "inbox emptied")
        run.wait_for(lambda: len(run.sent()) == 3, "three acknowledgements sent")
        code = run.terminate()
        sent = run.sent()
        output = run.log_path.read_text(errors="replace")

    assert code == 0, output[-3000:]
    found = records(database_url)
    assert sorted(r.subject for r in found) == ["Request 0", "Request 1", "Request 2"]
    assert all(r.message_count == 2 for r in found), "each record: the request and its ack"
    assert sorted(str(m["subject"]) for m in sent) == sorted(
        f"Re: [#{r.id}] {r.subject}" for r in found
    )
    assert "memory://" in output
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert {"fetcher", "ticketer", "sender"} <= {e.get("service") for e in events}
    assert any(e["event"] == "stopped" for e in events)
    assert not [secret for secret in run.world.secrets() if secret in output]


def test_run_reads_mail_again_whose_queue_was_lost(tmp_path: Path) -> None:
    """A crash loses what was queued in memory, while the saved delta link has moved past it.
    The state such a crash leaves (a delta link covering mail that is still in the inbox and
    has no record) must still end with every mail recorded and removed."""
    database_url = f"sqlite:///{tmp_path / 'mailpipe.db'}"
    with running_simulator(tmp_path / "graphsim", [SUPPORT]) as sim:
        with sim.control() as control:
            for n in range(4):
                control.post(f"/_sim/mailboxes/{SUPPORT}/messages", content=mail(n))
        config = sim.config()
        with GraphMail(config.graph, config.mailbox(SUPPORT)) as graph:
            delta = graph.delta("inbox", None, page_size=100)
        assert len(delta.messages) == 4
        state = MailCursors.open(database_url)
        try:
            state.set_cursor(SUPPORT, "inbox", delta.cursor, provider="microsoft")
        finally:
            state.close()

        with mailpipe_run(tmp_path, sim, database_url) as run:
            run.wait_for(
                lambda: run.folders()["inbox"] == 0 and run.folders().get(RECOVERABLE) == 4,
                "inbox emptied",
            )
            assert run.terminate() == 0, run.log()

    assert sorted(r.subject for r in records(database_url)) == [f"Request {n}" for n in range(4)]


def test_run_with_a_rabbitmq_broker_url(tmp_path: Path, amqp_url: str, namespace: str) -> None:
    """``--broker-url``: the same single process on RabbitMQ (its queues survive the process)."""
    database_url = f"sqlite:///{tmp_path / 'mailpipe.db'}"
    try:
        with (
            running_simulator(tmp_path / "graphsim", [SUPPORT]) as sim,
            mailpipe_run(
                tmp_path, sim, database_url, "--broker-url", amqp_url, MAILPIPE_NAMESPACE=namespace
            ) as run,
        ):
            for n in range(2):
                run.control.post(f"/_sim/mailboxes/{SUPPORT}/messages", content=mail(n))
            run.wait_for(
                lambda: run.folders()["inbox"] == 0 and run.folders().get(RECOVERABLE) == 2,
                "inbox emptied",
            )
            run.wait_for(lambda: len(run.sent()) == 2, "two acknowledgements sent")
            assert run.terminate() == 0, run.log()
            broker = Broker(amqp_url, Names(namespace))
            try:  # the topology is RabbitMQ's: passive declares find the work queues, empty
                assert broker.message_count(broker.names.ticketer.name) == 0
                assert broker.message_count(broker.names.sender.name) == 0
            finally:
                broker.close()
    finally:
        Broker(amqp_url, Names(namespace)).delete()
    assert sorted(r.subject for r in records(database_url)) == ["Request 0", "Request 1"]
