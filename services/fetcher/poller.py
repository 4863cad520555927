"""One mailbox's poller: a round every ``poll_interval_s``, each new mail published.

Its rounds are run by the fetcher's schedule (:mod:`services.fetcher.schedule`: a few
threads for all the mailboxes, a turn each when due), so a slow or failing mailbox holds one
worker and never stalls the others.

Order of effects, so that nothing is lost: the changes since the saved delta link are
read page by page; each page's new mails are built (attachments and raw MIME to the blob
store) and published in chunks, each chunk waiting once for the broker's confirms
(:mod:`services.fetcher.flow`); only when every mail of the round is published is the new
delta link saved. A crash anywhere re-reads the round after a restart; the ticketer's
idempotency absorbs the repeats.

A mail that can never be published, or that Graph cannot serve, would hold the delta link
back for ever; after a few rounds it is moved to the quarantine folder instead
(:mod:`services.fetcher.quarantine`), and the round completes. When the delta read itself
keeps failing for what may be one message, the rounds narrow (:mod:`services.fetcher.narrowing`):
small delta pages, then an id-only listing with every mail read on its own, until the mail
is found and quarantined and the delta link moves on. A refused credential is tried again
less and less often (:mod:`services.fetcher.credential`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import structlog

from libs.common.blobs import BlobStorage
from libs.common.broker.leasebook import Lease, Unshared
from libs.common.errors import MailpipeError, PermanentError
from libs.common.mail import MailAuthError, Mailbox
from libs.common.settings import MailboxConfig
from services.fetcher import metrics
from services.fetcher.builder import MailBuilder
from services.fetcher.byid import read_by_id
from services.fetcher.credential import CredentialBackoff
from services.fetcher.evidence import LastErrors
from services.fetcher.flow import CHUNK, MailFlow, Publish
from services.fetcher.health import HealthRecorder
from services.fetcher.inflight import InFlight
from services.fetcher.narrowing import NARROW_RETRY_S, Ladder, Mode, Reads
from services.fetcher.paging import read_delta
from services.fetcher.quarantine import Quarantiner, Report, error_line
from services.fetcher.state import Cursors
from services.fetcher.unpublishable import FailureCounts

log = structlog.get_logger("services.fetcher")

#: How soon a mailbox another fetcher polls is looked at again (a lease may come any time).
LEASE_RECHECK_S = 1.0
#: Messages per delta page: few requests per mail, while ``$select`` keeps pages small.
PAGE_SIZE = 100


@dataclass(frozen=True)
class PollStatus:
    """The last poll's result, for the readiness check."""

    ok: bool = True
    detail: str = "first poll pending"
    last_success: float | None = None


@dataclass(frozen=True)
class RoundResult:
    published: int
    skipped_in_flight: int
    failed: int
    #: Every mail of the round was published or quarantined (and, unless ``mode`` is
    #: ``by_id``, the new delta link saved).
    complete: bool
    resynced: bool
    #: Mails moved to the quarantine folder by this round (unpublishable or unreadable).
    quarantined: int = 0
    #: How the round read: ``full`` or ``small`` delta pages, or ``by_id`` (no delta link).
    mode: Mode = "full"
    #: Mails gone from the mailbox before they could be read or moved: nothing to do.
    vanished: int = 0


class MailboxPoller:
    def __init__(
        self,
        box: MailboxConfig,
        graph: Mailbox,
        state: Cursors,
        blobs: BlobStorage,
        publish: Publish,
        inflight: InFlight,
        *,
        page_size: int = PAGE_SIZE,
        chunk: int = CHUNK,
        clock: Callable[[], float] = time.time,
        ticks: Callable[[], float] = time.monotonic,
        report_quarantine: Report | None = None,
        lease: Lease | None = None,
        health: HealthRecorder | None = None,
        interval: Callable[[str, float], float] | None = None,
    ) -> None:
        self.box = box
        #: The poll interval (push: the safety interval while the mailbox's subscription lives).
        self._interval = interval or _normal_interval
        #: Where each round's outcome is noted for the console (:mod:`services.fetcher.health`).
        self._health = health
        #: Whether this fetcher polls the mailbox now (several fetchers share the mailboxes).
        self._lease: Lease = lease or Unshared()
        self._graph, self._state = graph, state
        self._builder = MailBuilder(box, graph, blobs)
        self._quarantiner = Quarantiner(box, graph, report_quarantine)
        self._publish, self._inflight = publish, inflight
        self._page_size, self._chunk, self._clock = page_size, chunk, clock
        self.status = PollStatus()
        #: Consecutive failures of a mail's own; decides when a mail is quarantined.
        self.failures = FailureCounts()
        #: What each mail's read failed with last round (a lone mail counts while it repeats).
        self.last_errors = LastErrors()
        #: How the folder is read now (narrower while delta reads keep failing).
        self.ladder = Ladder()
        #: When a refused credential is tried again (``ticks``: monotonic seconds).
        self.credential = CredentialBackoff(box.poll_interval_s, ticks)

    @property
    def address(self) -> str:
        return self.box.address

    def turn(self) -> float:
        """One turn of the fetcher's schedule (:mod:`services.fetcher.schedule`): a round when
        this fetcher holds the mailbox's lease; seconds until the next turn. Never raises."""
        with self._lease.round(self.address) as ours:
            if ours:
                self.poll()
        if not ours:
            self._not_ours()
            # Look again soon: a lease granted now starts its round within this.
            return min(LEASE_RECHECK_S, self.box.poll_interval_s)
        interval = self._interval(self.address, self.box.poll_interval_s)
        return max(interval, self.credential.wait_s())

    def _not_ours(self) -> None:
        """Another fetcher polls the mailbox: nothing is wrong with it here."""
        self.status = PollStatus(True, "polled by another fetcher", self.status.last_success)
        if self._health is not None:
            self._health.forget(self.address)

    def poll(self) -> RoundResult | None:
        """One round; ``None`` when it failed or a refused credential is not due again yet
        (the status and metrics say why)."""
        if not self.credential.due():
            return None
        try:
            result = self.round()
        except MailAuthError as exc:
            self._refused(exc)
            return None
        except Exception as exc:  # a poller never dies; the next round tries again
            self._failed(exc, "poll failed")
            return None
        self._accepted()
        if result.complete:
            now = self._clock()
            if result.mode != "by_id":  # the gauge says when the delta link was saved
                metrics.LAST_SUCCESSFUL_POLL.labels(self.address).set(now)
            self.status = PollStatus(True, "ok", now)
        else:
            self.status = PollStatus(
                False, f"{result.failed} mail(s) could not be read", self.status.last_success
            )
        self._note_round(result)
        return result

    def _note_round(self, result: RoundResult) -> None:
        """The round's outcome for the console: a complete round is a success; one that left
        mails unpublished says how many wait (they are read again next round)."""
        if self._health is None:
            return
        waiting = result.failed + result.skipped_in_flight
        if result.complete:
            self._health.success(self.address, self.box.poll_interval_s, waiting=waiting)
        else:
            self._health.waiting(self.address, self.box.poll_interval_s, waiting)

    def _note_error(self, code: str, hint: str | None, kind: str) -> None:
        if self._health is not None:
            self._health.failure(self.address, self.box.poll_interval_s, code, hint, kind)

    def _refused(self, exc: MailAuthError) -> None:
        """Every refused attempt counts; the line is logged when the refusal is new or
        changed, else at most once a minute; the next attempt waits longer each time."""
        metrics.GRAPH_AUTH_FAILURES.labels(self.address).inc()
        metrics.POLL_FAILURES.labels(self.address, exc.code).inc()
        self.status = PollStatus(False, f"credential refused: {exc.code}", self.status.last_success)
        self._note_error(exc.code, exc.hint, "credential")
        refusal = self.credential.refused((exc.code, exc.hint))
        if refusal.log:
            log.error(
                "credential refused",
                mailbox=self.address,
                error=exc.message,
                code=exc.code,
                hint=exc.hint,
                refusals=refusal.refusals,
                unlogged_refusals=refusal.unlogged,
                next_attempt_in_s=round(refusal.retry_in_s, 1),
            )

    def _accepted(self) -> None:
        refusals = self.credential.accepted()
        if refusals:
            log.info("credential accepted again", mailbox=self.address, refusals=refusals)

    def _failed(self, exc: Exception, what: str) -> None:
        code = exc.code if isinstance(exc, MailpipeError) else "unexpected_error"
        hint = exc.hint if isinstance(exc, MailpipeError) else None
        metrics.POLL_FAILURES.labels(self.address, code).inc()
        permanent = isinstance(exc, PermanentError) or not isinstance(exc, MailpipeError)
        (log.error if permanent else log.warning)(
            what,
            mailbox=self.address,
            error=error_line(exc),
            code=code,
            hint=hint,
            mode=self.ladder.mode,
        )
        self.status = PollStatus(False, f"{what}: {code}", self.status.last_success)
        self._note_error(code, hint, "permanent" if permanent else "transient")

    def round(self) -> RoundResult:
        """One round as the ladder says: delta pages (the link saved when every mail was
        published), or the narrowed by-id read. Retryable errors end the round."""
        self._builder.reads = Reads()
        flow = MailFlow(
            self.box,
            self._graph,
            self._builder,
            self._publish,
            self._inflight,
            self.failures,
            self._quarantiner,
            chunk=self._chunk,
            last_errors=self.last_errors,
        )
        if self.ladder.mode != "full":
            metrics.NARROWED_ROUNDS.labels(self.address, self.ladder.mode).inc()
        if self.ladder.mode == "by_id":
            return self._by_id_round(flow)
        return self._delta_round(flow)

    def _budget(self) -> AbstractContextManager[None]:
        """Narrowed reads retry briefly: the next round tries again anyway."""
        if self.ladder.mode == "full":
            return nullcontext()
        return self._graph.retry_budget(NARROW_RETRY_S)

    def _delta_round(self, flow: MailFlow) -> RoundResult:
        mode = self.ladder.mode
        folder = self.box.folder
        link = self._state.get_cursor(self.address, folder)
        size = self.ladder.page_size(self._page_size)
        pages = self._graph.iter_delta(folder, link, view="full", page_size=size)
        with self._budget():
            read = read_delta(pages, flow, self.ladder, self._inflight, self.failures)
            flow.finish()
        if self.ladder.delta_read():
            log.info("delta reads work again; full pages from the next round", mailbox=self.address)
        complete = flow.counts["failed"] == 0
        if complete:
            self._state.set_cursor(self.address, folder, read.cursor, provider=self.box.provider)
        return self._result(flow, read.skipped_in_flight, complete, read.resynced, mode)

    def _by_id_round(self, flow: MailFlow) -> RoundResult:
        """Narrowest: every new mail of the folder read on its own (:mod:`.byid`); no delta
        link is saved. Once no mail is left unread, the next round reads delta again."""
        with self._budget():
            skipped = read_by_id(self._graph, self.box.folder, self._inflight, self.failures, flow)
        if self.ladder.by_id_done(flow.counts["failed"]):
            log.info("folder read mail by mail; delta again next round", mailbox=self.address)
        complete = flow.counts["failed"] == 0
        return self._result(flow, skipped, complete, False, "by_id")

    def _result(
        self, flow: MailFlow, skipped: int, complete: bool, resynced: bool, mode: Mode
    ) -> RoundResult:
        return RoundResult(
            flow.counts["published"],
            skipped,
            flow.counts["failed"],
            complete,
            resynced,
            flow.counts["quarantined"],
            mode,
            flow.counts["vanished"],
        )


def _normal_interval(address: str, normal_s: float) -> float:
    return normal_s
