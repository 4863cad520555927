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
from libs.common.config_watch import ConfigChange
from libs.common.contracts import InboundEmail, ProcessedEmail, QuarantinedEmail
from libs.common.db.mailbox_health import MailboxHealthStore
from libs.common.health import Check
from libs.common.mail import Mailbox, open_mailbox
from libs.common.service import Loop
from libs.common.settings import MailboxConfig, MailpipeConfig
from services.fetcher.health import HealthRecorder
from services.fetcher.inflight import InFlight
from services.fetcher.poller import PAGE_SIZE, MailboxPoller
from services.fetcher.processed import ProcessedHandler
from services.fetcher.push_wiring import hint_listener, open_push, pushed_folders
from services.fetcher.schedule import POLL_THREADS, PollSchedule
from services.fetcher.state import MailCursors

if TYPE_CHECKING:
    from libs.common.broker.lease import LeaseKeeper

log = structlog.get_logger("services.fetcher")

#: ProcessedEmail messages per Graph ``$batch`` (Graph's own maximum is 20 requests).
PROCESSED_BATCH = 20
PROCESSED_WAIT_S = 0.25
#: Poll workers of a fetcher whose mailboxes may grow (a thread per mailbox up to this many).
GROWN_THREADS = 8


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
        grows: bool = False,
    ) -> None:
        """``grows``: mailboxes may be added later (:meth:`apply`): room for a few workers
        more than the mailboxes of the start."""
        self.config = config
        #: Each mailbox's last poll, written to the shared database for the console.
        self.health = health or HealthRecorder(MailboxHealthStore(state.engine))
        #: Threads that run the pollers' rounds (a thread per mailbox up to this many).
        self.poll_threads = poll_threads
        self.broker = broker
        self.inflight = InFlight()
        self._state, self._blobs, self._page_size = state, blobs, page_size
        # Each mailbox's retry budget per call is the provider's ([graph] max_retry_s).
        self.graphs = graphs or {box.address: open_mailbox(config, box) for box in config.mailboxes}
        #: Clients replaced by an integration change (a round may still use one): closed last.
        self._retired: list[Mailbox] = []
        # Which mailboxes this fetcher polls, when several run on one configuration.
        self.lease, self.lease_keeper = _leases(config, broker)
        #: Push (docs/push.md): the mailboxes' change subscriptions, when [push] is configured.
        self.push = open_push(self, state.engine) if config.push is not None else None
        self.pollers = [self._poller(box) for box in config.mailboxes]
        self.processed = ProcessedHandler(config, self.graphs.__getitem__, self.inflight)
        self.schedule = PollSchedule(self.pollers, threads=poll_threads)
        #: Hears the notification endpoint's hints (push only).
        self.hints = hint_listener(self)
        if grows:
            self.schedule.threads = max(self.schedule.threads, min(poll_threads, GROWN_THREADS))

    def _poller(self, box: MailboxConfig) -> MailboxPoller:
        return MailboxPoller(
            box,
            self.graphs[box.address],
            self._state,
            self._blobs,
            self.publish,
            self.inflight,
            page_size=self._page_size,
            report_quarantine=self.report_quarantined,
            lease=self.lease,
            health=self.health,
            interval=self.push.interval if self.push is not None else None,
        )

    def apply(self, config: MailpipeConfig, change: ConfigChange) -> None:
        """An integration change (:class:`~libs.common.config_watch.ConfigWatcher`): a new
        mailbox is polled, a removed one no longer (its mail in flight still finishes), a
        changed one polled with the new values and a new client (a new secret, a new token)."""
        self.processed.use(config)
        added = {box.address for box in change.added}
        # A new [graph] renews every client; else only the changed mailboxes'.
        renewed = (
            [b for b in config.mailboxes if b.address not in added]
            if change.graph
            else list(change.changed)
        )
        for box in change.removed:
            for poller in [p for p in self.pollers if p.address == box.address]:
                self.schedule.retire(poller)
                self.pollers.remove(poller)
            self.health.forget(box.address)  # no longer ours to report
        for box in (*renewed, *change.added):
            if box.address in self.graphs:
                self._retired.append(self.graphs[box.address])
            self.graphs[box.address] = open_mailbox(config, box)
            self._renew(self._poller(box))
        self.config = config
        if self.lease_keeper is not None:
            self.lease_keeper.use([box.address for box in config.mailboxes])
        if self.push is not None:  # [push] itself is read at start; its mailboxes follow
            self.push.use(config.push, pushed_folders(config))

    def _renew(self, poller: MailboxPoller) -> None:
        """``poller`` in its mailbox's place (its next turn, never beside a running one), or
        due at once for a new mailbox."""
        old = next((p for p in self.pollers if p.address == poller.address), None)
        if old is None:
            self.schedule.add(poller)
        else:
            self.schedule.replace(old, poller)
            self.pollers.remove(old)
        self.pollers.append(poller)

    def publish(self, emails: list[InboundEmail]) -> None:
        """Publish to ``inbound`` with each mail's Graph id as correlation id; one wait for
        all the confirms."""
        self.broker.publish_many(
            [routed(self.broker.names, email, correlation_id=email.message_id) for email in emails]
        )
        if self.push is not None and emails:  # a poller's chunk is of its one mailbox
            self.push.published(emails[0].mailbox, len(emails))

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
        schedule = self.schedule
        log.info("polling", mailboxes=len(self.pollers), threads=schedule.threads)
        loops: list[Loop] = [
            (f"poll-{n + 1}", partial(schedule.worker, stop)) for n in range(schedule.threads)
        ]
        loops.append(("processed", partial(self.consume_processed, stop)))
        loops.append(("health", partial(self.health.run, stop)))
        if self.lease_keeper is not None:
            loops.append(("leases", partial(self.lease_keeper.run, stop)))
        if self.push is not None and self.hints is not None:
            loops.append(("push", partial(self.push.run, stop)))
            loops.append(("hints", partial(self.hints.run, stop)))
        return loops

    def checks(self) -> dict[str, Check]:
        """Readiness per mailbox: the last poll succeeded (or none has run yet)."""
        return {f"mailbox:{p.address}": self.poll_check(p.address) for p in self.pollers}

    def poll_check(self, address: str) -> Check:
        """The current poller of ``address`` (an integration change may replace it)."""

        def check() -> tuple[bool, str]:
            poller = next((p for p in self.pollers if p.address == address), None)
            if poller is None:
                return True, "no longer configured"
            push = f"; {self.push.status(address)}" if self.push is not None else ""
            return poller.status.ok, poller.status.detail + push

        return check

    def close(self) -> None:
        for graph in (*self.graphs.values(), *self._retired):
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
