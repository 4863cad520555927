"""Helpers for the sender tests (no tests here): jobs, a results queue, the simulator's sent
list, a sender running in this process, and a config file for sender processes."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from kombu import Exchange, Queue
from sqlalchemy import insert

from libs.common.blobs import BlobStore
from libs.common.broker import Broker, routing_key
from libs.common.contracts import Address, OutboundEmail, OutboundResult
from libs.common.db import ensure_schema, make_engine
from libs.common.db.schema import records
from libs.common.db.threads import ThreadLookup
from libs.common.graph import GraphMail, RetryPolicy
from libs.common.mail import MailSender
from libs.common.settings import MailboxConfig, MailpipeConfig
from libs.graphsim.testing import SimHandle
from services.sender.config import SenderSettings
from services.sender.handler import SenderPorts, SendHandler
from services.sender.joblog import JobLog
from services.sender.pacing import Pacer
from services.sender.sendrate import SendSlots, SendSlotsPort
from tests.broker_helpers import drain, wait_until

MAILBOX = "support@contoso.com"
CUSTOMER = "customer@example.org"


def make_job(job_id: str, **fields: Any) -> OutboundEmail:
    data: dict[str, Any] = {
        "job_id": job_id,
        "mailbox": MAILBOX,
        "to": [{"address": CUSTOMER, "name": "Casey Customer"}],
        "subject": f"Answer {job_id}",
        "text": f"Hello, this is job {job_id}.",
    }
    data.update(fields)
    return OutboundEmail.model_validate(data)


def seed_record(database_url: str, record_id: int, mailbox: str = MAILBOX) -> None:
    """An empty record ``record_id`` of ``mailbox``: a job may name only a record of its own
    mailbox (``record_not_in_mailbox``)."""
    ensure_schema(database_url)
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(records).values(
                    id=record_id, mailbox=mailbox, created_at=now, updated_at=now
                )
            )
    finally:
        engine.dispose()


def publish_job(broker: Broker, job: OutboundEmail) -> None:
    broker.publish(
        broker.names.outbound,
        routing_key("outbound", job.mailbox),
        job,
        correlation_id=job.job_id,
    )


def publish_raw_job(broker: Broker, body: bytes, mailbox: str = MAILBOX) -> None:
    """Publish bytes as they are (a job that breaks its contract)."""
    conn = broker.connection()
    try:
        conn.connect()
        producer = conn.Producer()
        producer.publish(
            body,
            exchange=Exchange(broker.names.outbound, type="topic", passive=True),
            routing_key=routing_key("outbound", mailbox),
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
            type=OutboundEmail.SCHEMA,
        )
    finally:
        conn.release()


class Results:
    """A queue bound to the events exchange with ``outbound.*``: every result, kept."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.name = f"{broker.names.namespace}.test.results"
        self.seen: list[OutboundResult] = []
        conn = broker.connection()
        try:
            conn.connect()
            Queue(
                self.name,
                Exchange(broker.names.events, type="topic", passive=True),
                routing_key="outbound.*",
                durable=False,
            ).bind(conn.channel()).declare()
        finally:
            conn.release()

    def read(self) -> list[OutboundResult]:
        for got in drain(self.broker, self.name):
            self.seen.append(OutboundResult.from_json(got.body))
        return self.seen

    def of(self, job_id: str) -> list[OutboundResult]:
        return [r for r in self.read() if r.job_id == job_id]

    def wait_for(self, job_id: str, timeout_s: float = 60.0) -> OutboundResult:
        assert wait_until(lambda: bool(self.of(job_id)), timeout_s), f"no result for {job_id}"
        return self.of(job_id)[0]

    def wait_count(self, n: int, timeout_s: float = 120.0) -> list[OutboundResult]:
        assert wait_until(lambda: len({r.job_id for r in self.read()}) >= n, timeout_s), (
            f"{len({r.job_id for r in self.seen})} of {n} results"
        )
        return self.seen

    def delete(self) -> None:
        conn = self.broker.connection()
        try:
            conn.connect()
            conn.channel().queue_delete(self.name)
        finally:
            conn.release()


def sent_list(sim: SimHandle, mailbox: str = MAILBOX) -> list[dict[str, Any]]:
    with sim.control() as control:
        response = control.get(f"/_sim/mailboxes/{mailbox}/sent")
        response.raise_for_status()
        return list(response.json())


def parsed(entry: dict[str, Any]) -> EmailMessage:
    msg = BytesParser(policy=policy.default).parsebytes(base64.b64decode(entry["mime_base64"]))
    assert isinstance(msg, EmailMessage)
    return msg


def set_send_as(sim: SimHandle, allowed: list[str], mailbox: str = MAILBOX) -> None:
    with sim.control() as control:
        control.put(
            f"/_sim/mailboxes/{mailbox}/send-as", json={"allowed": allowed}
        ).raise_for_status()


def sim_stats(sim: SimHandle) -> dict[str, Any]:
    with sim.control() as control:
        return dict(control.get("/_sim/stats").json())


@contextmanager
def sender_in_process(
    broker: Broker,
    config: MailpipeConfig,
    database_url: str,
    blob_dir: Path,
    slots: Callable[[SendSlots], SendSlotsPort] = lambda real: real,
    *,
    mail_for: Callable[[MailboxConfig], MailSender] | None = None,
    stop: threading.Event | None = None,
    **settings: Any,
) -> Iterator[JobLog]:
    """The sender's handler, wired to real adapters, consuming on a thread of this process
    (``slots`` may wrap its send slots; ``mail_for``, the caller's to close, replaces the
    Graph adapters); leaving the block, or ``stop`` set, stops it as SIGTERM would."""
    sender = SenderSettings(**settings)
    joblog = JobLog.open(database_url)
    stop = stop or threading.Event()
    graphs: dict[str, GraphMail] = {}

    def graph_for(box: MailboxConfig) -> GraphMail:
        if box.address not in graphs:
            graphs[box.address] = GraphMail(config.graph, box, policy=RetryPolicy(budget_s=10))
        return graphs[box.address]

    def publish(result: OutboundResult) -> None:
        broker.publish(
            broker.names.events,
            routing_key("outbound", result.status),
            result,
            correlation_id=result.job_id,
            mandatory=False,
        )

    blobs = BlobStore(blob_dir)
    handler = SendHandler(
        SenderPorts(
            config=config,
            settings=sender,
            joblog=joblog,
            read_blob=blobs.get,
            mail_for=mail_for or graph_for,
            thread_of=ThreadLookup(joblog.engine).thread_of,
            record_mailbox=ThreadLookup(joblog.engine).mailbox_of,
            blob_size=blobs.size,
            publish=publish,
            pacer=Pacer(slots(SendSlots(joblog.engine)), sender.rate, stop),
            sleep=time.sleep,
        )
    )
    thread = threading.Thread(
        target=broker.consume,
        args=(broker.names.sender, OutboundEmail, handler),
        kwargs={
            "stop": stop,
            "on_invalid": handler.on_invalid,
            "on_dead": handler.on_dead,
        },
        daemon=True,
    )
    thread.start()
    try:
        yield joblog
    finally:
        stop.set()
        thread.join(timeout=60)
        for client in graphs.values():
            client.close()
        joblog.close()
    assert not thread.is_alive(), "the sender's consumer did not stop"


def write_config(sim: SimHandle, path: Path, **mailbox: Any) -> Path:
    """A TOML config for sender processes, the simulator's mailboxes with ``mailbox`` keys."""
    config = sim.config(**mailbox)
    lines = [
        "[graph]",
        f"base_url = {json.dumps(config.graph.base_url)}",
        f"authority_host = {json.dumps(config.graph.authority_host)}",
        f"ca_bundle = {json.dumps(str(config.graph.ca_bundle))}",
        "max_retry_s = 20",
    ]
    for box in config.mailboxes:
        secret = box.client_secret.get_secret_value() if box.client_secret else ""
        lines += [
            "",
            "[[mailboxes]]",
            f"address = {json.dumps(box.address)}",
            f"tenant_id = {json.dumps(box.tenant_id)}",
            f"client_id = {json.dumps(box.client_id)}",
            f"client_secret = {json.dumps(secret)}",
            f"send_as = {json.dumps(list(box.send_as))}",
            f"send_as_fallback = {json.dumps(box.send_as_fallback)}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def addresses(items: list[Address] | tuple[Address, ...]) -> list[str]:
    return [a.address for a in items]


REPO = Path(__file__).resolve().parents[2]


def sender_env(
    amqp_url: str, namespace: str, database_url: str, config: Path, blob_dir: Path, **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPIPE_")}
    env.update(
        MAILPIPE_AMQP_URL=amqp_url,
        MAILPIPE_NAMESPACE=namespace,
        MAILPIPE_DATABASE_URL=database_url,
        MAILPIPE_CONFIG=str(config),
        MAILPIPE_BLOB_DIR=str(blob_dir),
        MAILPIPE_SENDER_RATE_PER_MINUTE="100000",
    )
    env.update(extra)  # may set the rate too
    return env


def start_sender(env: dict[str, str], log_file: Path) -> subprocess.Popen[bytes]:
    """``python -m services.sender`` with its output in ``log_file`` (a pipe could fill up)."""
    with log_file.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "services.sender"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def log_events(log_file: Path) -> list[dict[str, Any]]:
    events = []
    for line in log_file.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except ValueError:
                continue  # a line cut short by kill -9
    return events


def stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_sender(sim: SimHandle, broker: Broker, db_url: str, tmp_path: Path, **mailbox: Any) -> Any:
    """The sender in this process against the simulator's config (``mailbox`` overrides)."""
    return sender_in_process(broker, sim.config(**mailbox), db_url, tmp_path / "blobs")
