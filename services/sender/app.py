"""Wiring of the sender: consumes OutboundEmail jobs, sends through Graph, publishes results.

The one place where the sender's adapters (broker, job log, blob store, Graph, the record
thread lookup) meet its handler. :func:`wire` builds it on a :class:`Runtime`; ``main()`` (the
distributed service) and the embedded mode both use it. Nothing here runs at import time.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from functools import partial

import structlog

from libs.common.blobs import BlobStore
from libs.common.broker import routing_key
from libs.common.contracts import BlobRef, OutboundEmail, OutboundResult
from libs.common.db.threads import ThreadLookup
from libs.common.graph import GraphPool
from libs.common.service import Runtime, Wiring, bootstrap, run_wired
from services.sender.config import SenderSettings, check_claim_timing
from services.sender.domain.rate import SendRateLimiter
from services.sender.handler import SenderPorts, SendHandler
from services.sender.joblog import JobLog, JobLogPort

log = structlog.get_logger("services.sender")


def build_handler(runtime: Runtime, sender: SenderSettings) -> tuple[SendHandler, GraphPool]:
    url = runtime.settings.database_url.get_secret_value()
    joblog = JobLog.open(url)
    threads = ThreadLookup(joblog.engine)  # the same database, read-only queries
    blobs = BlobStore(runtime.settings.blob_dir)
    graphs = GraphPool(runtime.config.graph)
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
        record_mailbox=threads.mailbox_of,
        blob_size=partial(blob_size, blobs),
        publish=publish,
        limiter=SendRateLimiter(limit=sender.rate_per_minute),
        sleep=time.sleep,
    )
    return SendHandler(ports), graphs


def blob_size(store: BlobStore, ref: BlobRef) -> int | None:
    """The stored size of a blob, ``None`` when it is not there (its read says so later)."""
    try:
        return store.path(ref.sha256).stat().st_size
    except FileNotFoundError:
        return None


def _database_check(joblog: JobLogPort) -> Callable[[], tuple[bool, str]]:
    """Ready when the job log answers (a sender without it must not take jobs)."""

    def check() -> tuple[bool, str]:
        try:
            joblog.get_job("readiness-probe")
        except Exception as exc:  # any failure means "not ready"; the probe must not raise
            return False, f"database unavailable: {exc.__class__.__name__}"
        return True, "connected"

    return check


def wire(runtime: Runtime, sender: SenderSettings | None = None) -> Wiring:
    """The sender on ``runtime``: job log, handler, Graph clients, the ``sender`` loop."""
    sender = sender or SenderSettings()
    # Before anything opens: a stale time the retry tiers cannot outlast loses jobs.
    check_claim_timing(sender, runtime.names.retry_delays_s)
    handler, graphs = build_handler(runtime, sender)
    log.info(
        "sender ready",
        rate_per_minute=sender.rate_per_minute,
        stale_claim_s=sender.stale_claim_s,
        mailboxes=[box.address for box in runtime.config.mailboxes],
    )

    def consume() -> None:
        runtime.broker.consume(
            runtime.names.sender,
            OutboundEmail,
            handler,
            stop=runtime.stop,
            on_invalid=handler.on_invalid,
            on_dead=handler.on_dead,
        )

    # The loop runs in a copy of the caller's context, so its log lines keep the service name
    # bound there (threads do not inherit context variables).
    loop = partial(contextvars.copy_context().run, consume)

    def close() -> None:
        graphs.close()
        handler.p.joblog.close()

    return Wiring([("sender", loop)], {"database": _database_check(handler.p.joblog)}, close)


def main() -> int:
    runtime = bootstrap("sender")
    return run_wired(runtime, [wire(runtime)])
