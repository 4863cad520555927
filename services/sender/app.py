"""Wiring of the sender: consumes OutboundEmail jobs, sends through Graph, publishes results.

The one place where the sender's adapters (broker, job log, blob store, Graph, the record
thread lookup) meet its handler. Nothing here runs at import time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog

from libs.common.blobs import BlobStore
from libs.common.broker import routing_key
from libs.common.contracts import OutboundEmail, OutboundResult
from libs.common.db.threads import ThreadLookup
from libs.common.graph import GraphMail, RetryPolicy
from libs.common.service import Runtime, bootstrap, run_consumers
from libs.common.settings import MailboxConfig
from services.sender.config import SenderSettings
from services.sender.domain.rate import SendRateLimiter
from services.sender.handler import SenderPorts, SendHandler
from services.sender.joblog import JobLog

log = structlog.get_logger("services.sender")


class GraphPool:
    """One GraphMail per mailbox, made on first use and shared by the handler's calls."""

    def __init__(self, runtime: Runtime) -> None:
        self._graph = runtime.config.graph
        self._clients: dict[str, GraphMail] = {}
        self._lock = threading.Lock()

    def __call__(self, box: MailboxConfig) -> GraphMail:
        with self._lock:
            client = self._clients.get(box.address)
            if client is None:
                policy = RetryPolicy(budget_s=self._graph.max_retry_s)
                client = GraphMail(self._graph, box, policy=policy)
                self._clients[box.address] = client
            return client

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


def build_handler(runtime: Runtime, sender: SenderSettings) -> tuple[SendHandler, GraphPool]:
    url = runtime.settings.database_url.get_secret_value()
    joblog = JobLog.open(url)
    threads = ThreadLookup(joblog.engine)  # the same database, read-only queries
    blobs = BlobStore(runtime.settings.blob_dir)
    graphs = GraphPool(runtime)
    names = runtime.names

    def publish(result: OutboundResult) -> None:
        # Nobody has to follow results, so the events exchange is not mandatory.
        runtime.broker.publish(
            names.events,
            routing_key("outbound", result.status),
            result,
            correlation_id=result.job_id,
            mandatory=False,
        )

    ports = SenderPorts(
        config=runtime.config,
        settings=sender,
        joblog=joblog,
        read_blob=blobs.get,
        graph_for=graphs,
        thread_of=threads.thread_of,
        publish=publish,
        limiter=SendRateLimiter(limit=sender.rate_per_minute),
        sleep=time.sleep,
    )
    return SendHandler(ports), graphs


def _database_check(joblog: JobLog) -> Callable[[], tuple[bool, str]]:
    """Ready when the job log answers (a sender without it must not take jobs)."""

    def check() -> tuple[bool, str]:
        try:
            joblog.get_job("readiness-probe")
        except Exception as exc:  # any failure means "not ready"; the probe must not raise
            return False, f"database unavailable: {exc.__class__.__name__}"
        return True, "connected"

    return check


def main() -> int:
    runtime = bootstrap("sender")
    sender = SenderSettings()
    handler, graphs = build_handler(runtime, sender)
    if runtime.health is not None:
        runtime.health.add_check("database", _database_check(handler.p.joblog))
    log.info(
        "sender ready",
        rate_per_minute=sender.rate_per_minute,
        mailboxes=[box.address for box in runtime.config.mailboxes],
    )

    def consume() -> None:
        # A new thread starts without the main thread's context: bind the service again.
        structlog.contextvars.bind_contextvars(service=runtime.name)
        runtime.broker.consume(
            runtime.names.sender,
            OutboundEmail,
            handler,
            stop=runtime.stop,
            on_invalid=handler.on_invalid,
            on_dead=handler.on_dead,
        )

    try:
        return run_consumers(runtime, [("sender", consume)])
    finally:
        graphs.close()
