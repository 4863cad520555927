"""The admin journey's world for the browser tests: the Graph simulator, ``mailpipe web`` on the
integrations of its own SQLite database (``MAILPIPE_CONFIG_SOURCE=database``, a secrets key, the
simulator's ``[graph]``), its dead letters and replies on RabbitMQ in a namespace of its own,
and ``mailpipe run`` on the same database while a test needs the pipeline."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from libs.common.secret_box import new_key
from libs.graphsim.testing import SimHandle, running_simulator
from services.ticketer.store import RecordStore
from tests.broker_helpers import namespaced_broker
from tests.browser.console_process import ADMIN, AGENT, RunningConsole, mailpipe_web
from tests.config_helpers import write_sim_config
from tests.e2e.harness import REPO, free_port

#: Made in the console by the journey's admin (and given a wrong secret there).
HELPDESK = "helpdesk@contoso.com"
#: Imported with ``mailpipe config import``: the pipeline fetches it for the health page.
SUPPORT = "support@contoso.com"
#: Imported too: its quarantine, apart from the mail the health page counts.
BILLING = "billing@contoso.com"
#: The agents' desk (tests.browser.desk_rig): its records are replied to from the console.
DESK = "desk@contoso.com"
#: Where a quarantined mail lies (an integration's default quarantine folder).
QUARANTINE = "mailpipe-quarantine"


def _graph_only(sim: SimHandle, path: Path) -> Path:
    lines = [
        "[graph]",
        f'base_url = "{sim.base_url}"',
        f'authority_host = "{sim.authority_host}"',
        f'ca_bundle = "{sim.ca_bundle}"',
    ]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


@dataclass
class Journey:
    sim: SimHandle
    console: RunningConsole
    workdir: Path

    @property
    def database_url(self) -> str:
        return self.console.env["MAILPIPE_DATABASE_URL"]

    def mailpipe(self, *args: str) -> None:
        """A one-off ``mailpipe`` command on the console's environment; fails on its error."""
        done = subprocess.run(
            [sys.executable, "-m", "mailpipe", *args],
            env=self.console.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"mailpipe {' '.join(args)}: {done.stdout}{done.stderr}"

    def post_mail(self, raw: bytes, mailbox: str, folder: str | None = None) -> str:
        """A mail put in the simulator's mailbox (its inbox, or ``folder``); its id."""
        params = {"folder": folder} if folder else {}
        with self.sim.control() as control:
            answer = control.post(f"/_sim/mailboxes/{mailbox}/messages", content=raw, params=params)
        answer.raise_for_status()
        return str(answer.json()["id"])

    def quarantine(self, raw: bytes, mailbox: str, subject: str) -> None:
        """The mail in the quarantine folder and its entry, as the ticketer leaves them."""
        message_id = self.post_mail(raw, mailbox, folder=QUARANTINE)
        records = RecordStore.open(self.database_url)
        try:
            records.quarantine_email(
                mailbox, message_id, "bad_mime", provider="microsoft", subject=subject
            )
        finally:
            records.close()

    def folders(self, mailbox: str) -> dict[str, int]:
        with self.sim.control() as control:
            return dict(control.get(f"/_sim/mailboxes/{mailbox}").json()["folders"])

    @contextmanager
    def pipeline(self, *, on_rabbitmq: bool = False) -> Iterator[subprocess.Popen[bytes]]:
        """``mailpipe run --no-web`` on the console's database, stopped with SIGTERM when the
        block ends; its queues in memory, or ``on_rabbitmq`` on the console's broker and
        namespace (so that its sender takes the console's replies)."""
        log = self.workdir / "run.log"
        broker = ["--broker-url", self.console.env["MAILPIPE_AMQP_URL"]] if on_rabbitmq else []
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "mailpipe", "run", "--no-web", *broker],
                cwd=REPO,
                env={
                    **self.console.env,
                    "MAILPIPE_HEALTH_PORT": str(free_port()),
                    "PYTHONUNBUFFERED": "1",
                },
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def journey_world(workdir: Path, amqp_url: str, namespace: str) -> Iterator[Journey]:
    """The simulator, the console with an admin and an agent, and SUPPORT and BILLING imported."""
    key = workdir / "secrets.key"
    key.write_text(new_key())
    key.chmod(0o600)
    mailboxes = [HELPDESK, SUPPORT, BILLING, DESK]
    with (
        running_simulator(workdir / "graphsim", mailboxes) as sim,
        namespaced_broker(amqp_url, namespace),
        mailpipe_web(
            workdir,
            MAILPIPE_CONFIG_SOURCE="database",
            MAILPIPE_CONFIG=str(_graph_only(sim, workdir / "graph.toml")),
            MAILPIPE_SECRETS_KEY_FILE=str(key),
            MAILPIPE_AMQP_URL=amqp_url,
            MAILPIPE_NAMESPACE=namespace,
            MAILPIPE_BLOB_DIR=str(workdir / "blobs"),
        ) as console,
    ):
        for account in (ADMIN, AGENT):
            console.create_user(*account)
        journey = Journey(sim, console, workdir)
        imported = write_sim_config(sim, workdir / "import.toml", [SUPPORT, BILLING])
        journey.mailpipe("config", "import", str(imported))
        yield journey
