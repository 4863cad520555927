"""The compose stack under test: ``docker compose`` with this run's project, passwords and images.

Everything goes through the unmodified ``docker-compose.yml`` and ``docker-compose.demo.yml``;
what differs per run comes from the variables they offer (images, passwords, the simulator's
host port, the sending rate). The project name is this run's own, so its containers, network
and volumes never meet another run's.
"""

from __future__ import annotations

import json
import secrets
import ssl
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx

from bench.procs import free_port

REPO = Path(__file__).resolve().parents[2]
FILES = ("docker-compose.yml", "docker-compose.demo.yml")
MAILBOX = "support@contoso.com"
#: The mailpipe services (one image); rabbitmq and postgres are the infrastructure.
SERVICES = ("fetcher", "ticketer", "sender", "blobs-gc", "graphsim", "web")

# Run inside a sender container, which has the broker URL and its password file: publishes the
# jobs read from stdin as a client of the documented contract would (docs/publishing-jobs.md).
_PUBLISH = """
import json, sys
from libs.common.broker import Broker, Names, routing_key
from libs.common.contracts import OutboundEmail
from libs.common.settings import Settings
settings = Settings()
jobs = [OutboundEmail.model_validate(j) for j in json.load(sys.stdin)]
with Broker(settings.amqp_url.get_secret_value(), Names(settings.namespace)) as broker:
    for job in jobs:
        key = routing_key("outbound", job.mailbox)
        broker.publish(broker.names.outbound, key, job, correlation_id=job.job_id)
print(len(jobs))
"""


def wait_for(
    what: str,
    predicate: Callable[[], bool],
    timeout_s: float = 600.0,
    *explain: Any,
) -> None:
    """Poll until ``predicate`` holds; the deadline only keeps a broken stack from hanging.

    ``explain`` (a function and its arguments) says, on time-out, what was still missing.
    """
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            detail = f": {explain[0](*explain[1:])}" if explain else ""
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}{detail}")
        time.sleep(1.0)


def mail_header(run: str, i: int, name: str) -> str:
    """The headers every test mail of run ``run`` carries (inbound() finds them by Message-ID)."""
    return {
        "From": f"Customer {i} <customer-{i}@fabrikam.example>",
        "To": MAILBOX,
        "Subject": f"compose {run} request {i}",
        "Message-ID": f"<compose-{run}-{i}@fabrikam.example>",
        "Date": formatdate(),
    }[name]


def mail(run: str, i: int) -> bytes:
    msg = EmailMessage()
    for name in ("From", "To", "Subject", "Message-ID", "Date"):
        msg[name] = mail_header(run, i, name)
    msg.set_content(f"Hello, this is request {i} of run {run}. The printer is broken.\n")
    return bytes(msg)


def job(run: str, i: int) -> dict[str, Any]:
    return {
        "job_id": f"compose-{run}-job-{i}",
        "mailbox": MAILBOX,
        "to": [{"address": f"user-{i}@fabrikam.example", "name": f"User {i}"}],
        "subject": f"compose {run} notice {i}",
        "text": f"Notice {i} of run {run}.",
    }


@dataclass
class Stack:
    """One compose project: commands, the database, the broker and the simulator's control API."""

    images: dict[str, str]
    run: str = field(default_factory=lambda: secrets.token_hex(4))
    port: int = field(default_factory=free_port)
    #: The web console's host port (on 127.0.0.1).
    web_port: int = field(default_factory=free_port)
    passwords: dict[str, str] = field(
        default_factory=lambda: {
            "RABBITMQ_PASSWORD": "rq-" + secrets.token_urlsafe(18),
            "POSTGRES_PASSWORD": "pg-" + secrets.token_urlsafe(18),
        }
    )
    ca: Path | None = None

    @property
    def project(self) -> str:
        return f"mpct{self.run}"

    def env(self) -> dict[str, str]:
        import os

        base = {k: v for k, v in os.environ.items() if not k.startswith("MAILPIPE_")}
        return {
            **base,
            **self.images,
            **self.passwords,
            "IMAGE": "mailpipe:compose-test",
            "DOCKER_BUILDKIT": "0",  # BuildKit would look up the Dockerfile's syntax line online
            "GRAPHSIM_PORT": str(self.port),
            "WEB_PORT": str(self.web_port),
            # The console over plain HTTP on this machine (its cookies would be HTTPS-only).
            "MAILPIPE_WEB_INSECURE_COOKIES": "true",
            # Exchange's 30 a minute is not what is tested here; the senders' limiter is.
            "MAILPIPE_SENDER_RATE_PER_MINUTE": "100000",
        }

    def compose_bytes(
        self,
        *args: str,
        stdin: str | bytes | None = None,
        check: bool = True,
        timeout_s: float = 900,
    ) -> bytes:
        """Run ``docker compose`` on this project; its standard output, as bytes."""
        files = [arg for name in FILES for arg in ("-f", name)]
        cmd = ["docker", "compose", "--project-name", self.project, *files, "--profile", "demo"]
        done = subprocess.run(
            [*cmd, *args],
            cwd=REPO,
            env=self.env(),
            input=stdin.encode() if isinstance(stdin, str) else stdin,
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
        if check and done.returncode != 0:
            stderr = done.stderr.decode(errors="replace")[-3000:]
            raise AssertionError(f"docker compose {' '.join(args)}: {stderr}")
        return done.stdout

    def compose(
        self,
        *args: str,
        stdin: str | bytes | None = None,
        check: bool = True,
        timeout_s: float = 900,
    ) -> str:
        return self.compose_bytes(*args, stdin=stdin, check=check, timeout_s=timeout_s).decode()

    def up(self, *extra: str, attempts: int = 4) -> None:
        """``up -d --wait``. Right after RabbitMQ or PostgreSQL restarted, a service whose
        readiness failed while it reconnected is briefly ``unhealthy`` (three failed checks,
        45 s), and ``--wait`` gives up at once; the next checks make it healthy again, so
        the wait is repeated a few times. A service that stays unhealthy still fails."""
        for _ in range(attempts - 1):
            try:
                self.compose("up", "-d", "--wait", *extra)
                return
            except AssertionError as exc:
                if "is unhealthy" not in str(exc):
                    raise
            time.sleep(20)
        self.compose("up", "-d", "--wait", *extra)

    def container_ids(self, service: str, *, all_states: bool = False) -> list[str]:
        flags = ["-a"] if all_states else []
        return self.compose("ps", *flags, "-q", service).split()

    def inspect(self, container: str) -> dict[str, Any]:
        out = subprocess.run(
            ["docker", "inspect", container], capture_output=True, text=True, check=True
        ).stdout
        return dict(json.loads(out)[0])

    def sql(self, query: str, database: str = "mailpipe") -> list[list[str]]:
        out = self.compose(
            "exec", "-T", "postgres", "psql", "-U", "mailpipe", "-d", database,
            "-At", "-F", "\t", "-c", query,
        )  # fmt: skip
        return [line.split("\t") for line in out.splitlines() if line]

    def sim(self) -> httpx.Client:
        if self.ca is None:
            self.ca = Path(f"/tmp/{self.project}-ca.pem")
            self.compose("cp", "graphsim:/demo/graphsim/ca.pem", str(self.ca))
        verify = ssl.create_default_context(cafile=str(self.ca))
        return httpx.Client(
            base_url=f"https://localhost:{self.port}/_sim", verify=verify, timeout=30
        )

    def post_mail(self, raws: list[bytes]) -> None:
        with self.sim() as sim:
            for raw in raws:
                sim.post(f"/mailboxes/{MAILBOX}/messages", content=raw).raise_for_status()

    def mailbox(self) -> dict[str, Any]:
        with self.sim() as sim:
            return dict(sim.get(f"/mailboxes/{MAILBOX}").json())

    def sent_by_job(self) -> Counter[str]:
        with self.sim() as sim:
            sent = sim.get(f"/mailboxes/{MAILBOX}/sent").json()
        return Counter(entry["headers"].get("X-Mailpipe-Job-Id", "") for entry in sent)

    def publish_jobs(self, jobs: list[dict[str, Any]]) -> None:
        out = self.compose("exec", "-T", "sender", "python", "-c", _PUBLISH, stdin=json.dumps(jobs))
        assert out.strip() == str(len(jobs)), out

    def inbound(self) -> dict[str, tuple[int, int]]:
        """This run's inbound Message-IDs: (messages stored, records they are in) for each."""
        rows = self.sql(
            "SELECT internet_message_id, count(*), count(DISTINCT record_id) "
            "FROM record_messages WHERE direction = 'in' "
            f"AND internet_message_id LIKE '<compose-{self.run}-%' GROUP BY 1"
        )
        return {mid: (int(n), int(r)) for mid, n, r in rows}

    def logs(self) -> str:
        return self.compose("logs", "--no-color", "--timestamps")

    def down(self) -> None:
        self.compose("down", "--volumes", "--remove-orphans", "--timeout", "30", check=False)
        if self.ca is not None:
            self.ca.unlink(missing_ok=True)
