"""Wiring of the sender: consumes OutboundEmail jobs, sends through Graph, publishes results.

The one place where the sender's adapters (broker, job log, blob store, Graph, the record
thread lookup) meet its handler. :func:`wire` builds it on a :class:`Runtime`; ``main()`` (the
distributed service) and the embedded mode both use it. Nothing here runs at import time.
"""

from __future__ import annotations

import time
from functools import partial

import structlog

from libs.common.blobs import BlobStorage, open_blobs
from libs.common.contracts import OutboundEmail, OutboundResult
from libs.common.db.threads import ThreadLookup
from libs.common.mail import MailProvider, open_provider
from libs.common.service import Runtime, Wiring, database_check, run_service
from services.sender.config import SenderSettings, check_claim_timing
from services.sender.handler import SenderPorts, SendHandler
from services.sender.joblog import JobLog
from services.sender.pacing import Pacer
from services.sender.sendrate import SendSlots

log = structlog.get_logger("services.sender")


def build_handler(
    runtime: Runtime, sender: SenderSettings
) -> tuple[SendHandler, MailProvider, BlobStorage]:
    url = runtime.settings.database_url.get_secret_value()
    joblog = JobLog.open(url)
    threads = ThreadLookup(joblog.engine)  # the same database, read-only queries
    slots = SendSlots(joblog.engine)  # the same database: the rate every sender shares
    blobs = open_blobs(runtime.settings)
    mailboxes = open_provider(runtime.config)

    def publish(result: OutboundResult) -> None:
        runtime.broker.publish_routed(result, correlation_id=result.job_id)

    ports = SenderPorts(
        config=runtime.config,
        settings=sender,
        joblog=joblog,
        read_blob=blobs.get,
        mail_for=mailboxes,
        thread_of=threads.thread_of,
        record_mailbox=threads.mailbox_of,
        blob_size=blobs.size,
        publish=publish,
        # A job waiting for its slot is given back when the sender is told to stop.
        pacer=Pacer(slots, sender.rate, runtime.stop),
        sleep=time.sleep,
    )
    return SendHandler(ports), mailboxes, blobs


def wire(runtime: Runtime, sender: SenderSettings | None = None) -> Wiring:
    """The sender on ``runtime``: job log, handler, Graph clients, the ``sender`` loop."""
    sender = sender or SenderSettings()
    # Before anything opens: a stale time the retry tiers cannot outlast loses jobs.
    check_claim_timing(sender, runtime.names.retry_delays_s)
    handler, mailboxes, blobs = build_handler(runtime, sender)
    if runtime.watcher is not None:  # a job after a change is judged by the new policy
        runtime.watcher.subscribe(lambda config, _change: setattr(handler.ports, "config", config))
    log.info(
        "sender ready",
        rate_per_minute=sender.rate_per_minute,
        rate_window_s=sender.rate_window_s,
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

    def close() -> None:
        mailboxes.close()
        blobs.close()
        handler.ports.joblog.close()

    # Ready while the job log answers.
    ready = database_check(partial(handler.ports.joblog.get_job, "readiness-probe"))
    return Wiring([("sender", consume)], {"database": ready}, close)


def main() -> int:
    return run_service("sender", wire)
