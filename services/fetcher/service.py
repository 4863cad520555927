"""The fetcher assembled from its adapters: one poller per mailbox, the processed consumer,
the mailbox leases (which mailboxes this fetcher polls when several share them) and the
readiness checks. ``app.py`` builds it from the environment; tests build it from a
test broker, the simulator's config and a test database, and run the same loops."""

from __future__ import annotations

import threading
from functools import partial
from typing import TYPE_CHECKING

import structlog

from libs.common.blobs import BlobStorage
from libs.common.broker import Broker, mailbox_leases, routed
from libs.common.broker.leasebook import Lease
from libs.common.contracts import InboundEmail, ProcessedEmail, QuarantinedEmail
from libs.common.db.mailbox_health import MailboxHealthStore
from libs.common.health import Check
from libs.common.mail import Mailbox, open_mailbox
from libs.common.service import Loop
from libs.common.settings import MailpipeConfig
from services.fetcher.health import HealthRecorder
from services.fetcher.inflight import InFlight
from services.fetcher.poller import PAGE_SIZE, MailboxPoller
from services.fetcher.processed import ProcessedHandler
from services.fetcher.schedule import POLL_THREADS, PollSchedule
from services.fetcher.state import MailCursors

if TYPE_CHECKING:
    from libs.common.broker.lease import LeaseKeeper

log = structlog.get_logger("services.fetcher")

#: ProcessedEmail messages per Graph ``$batch`` (Graph's own maximum is 20 requests).
PROCESSED_BATCH = 20
PROCESSED_WAIT_S = 0.25


class Fetcher:
    def __init__(
        self,
        config: MailpipeConfig,
        broker: Broker,
        state: MailCursors,
        blobs: BlobStorage,
        *,
        page_size: int = PAGE_SIZE,
        graphs: dict[str, Mailbox] | None = None,
        poll_threads: int = POLL_THREADS,
        health: HealthRecorder | None = None,
    ) -> None:
        self.config = config
        #: Each mailbox's last poll, written to the shared database for the console.
        self.health = health or HealthRecorder(MailboxHealthStore(state.engine))
        #: Threads that run the pollers' rounds (a thread per mailbox up to this many).
        self.poll_threads = poll_threads
        self.broker = broker
        self.inflight = InFlight()
        # Each mailbox's retry budget per call is the provider's ([graph] max_retry_s).
        self.graphs = graphs or {box.address: open_mailbox(config, box) for box in config.mailboxes}
        # Which mailboxes this fetcher polls, when several run on one configuration.
        self.lease, self.lease_keeper = _leases(config, broker)
        self.pollers = [
            MailboxPoller(
                box,
                self.graphs[box.address],
                state,
                blobs,
                self.publish,
                self.inflight,
                page_size=page_size,
                report_quarantine=self.report_quarantined,
                lease=self.lease,
                health=self.health,
            )
            for box in config.mailboxes
        ]
        self.processed = ProcessedHandler(config, self.graphs.__getitem__, self.inflight)

    def publish(self, emails: list[InboundEmail]) -> None:
        """Publish to ``inbound`` with each mail's Graph id as correlation id; one wait for
        all the confirms."""
        self.broker.publish_many(
            [routed(self.broker.names, email, correlation_id=email.message_id) for email in emails]
        )

    def report_quarantined(self, event: QuarantinedEmail) -> None:
        """Mail this fetcher quarantined itself, for the ticketer's quarantine view."""
        self.broker.publish_routed(event, correlation_id=event.message_id)

    def consume_processed(self, stop: threading.Event) -> None:
        self.broker.consume_batch(
            self.broker.names.fetcher_processed,
            ProcessedEmail,
            self.processed,
            stop=stop,
            max_batch=PROCESSED_BATCH,
            max_wait_s=PROCESSED_WAIT_S,
        )

    def loops(self, stop: threading.Event) -> list[Loop]:
        """Every long-running piece, as ``(thread name, function)`` for ``run_consumers``."""
        schedule = PollSchedule(self.pollers, threads=self.poll_threads)
        log.info("polling", mailboxes=len(self.pollers), threads=schedule.threads)
        loops: list[Loop] = [
            (f"poll-{n + 1}", partial(schedule.worker, stop)) for n in range(schedule.threads)
        ]
        loops.append(("processed", partial(self.consume_processed, stop)))
        loops.append(("health", partial(self.health.run, stop)))
        if self.lease_keeper is not None:
            loops.append(("leases", partial(self.lease_keeper.run, stop)))
        return loops

    def checks(self) -> dict[str, Check]:
        """Readiness per mailbox: the last poll succeeded (or none has run yet)."""
        return {f"mailbox:{p.address}": _poll_check(p) for p in self.pollers}

    def close(self) -> None:
        for graph in self.graphs.values():
            graph.close()


def _leases(config: MailpipeConfig, broker: Broker) -> tuple[Lease, LeaseKeeper | None]:
    return mailbox_leases(
        broker.connection,
        broker.names,
        [box.address for box in config.mailboxes],
        memory=broker.memory,
        heartbeat_s=broker.heartbeat_s,
        poll_interval_s=min((b.poll_interval_s for b in config.mailboxes), default=30.0),
    )


def _poll_check(poller: MailboxPoller) -> Check:
    def check() -> tuple[bool, str]:
        status = poller.status
        return status.ok, status.detail

    return check
