"""One mailbox's poller: a delta round every ``poll_interval_s``, each new mail published.

Runs on its own thread (one per mailbox), so a slow or failing mailbox never stalls the
others. Order of effects, so that nothing is lost: attachments and raw MIME go to the blob
store (:mod:`services.fetcher.builder`), then the InboundEmails are published in chunks of
:data:`CHUNK`, each chunk waiting once for the broker's confirms, and only when every mail of
the round is published is the delta link saved. A crash anywhere re-reads the round after a restart;
the ticketer's idempotency absorbs the repeats.

A mail that can never be published (it does not fit the contract, or Graph refuses its
parts) would hold the delta link back for ever; after a few rounds it is moved to the
quarantine folder instead (:mod:`services.fetcher.unpublishable`), and the round completes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from threading import Event
from typing import Any

import structlog
from structlog.contextvars import bound_contextvars

from libs.common.blobs import BlobStore
from libs.common.contracts import InboundEmail
from libs.common.errors import MailpipeError, PermanentError
from libs.common.graph import GraphAuthError, GraphMail, GraphNotFound
from libs.common.settings import MailboxConfig
from services.fetcher import metrics
from services.fetcher.builder import MailBuilder
from services.fetcher.domain import FETCH_SELECT
from services.fetcher.inflight import InFlight
from services.fetcher.state import DeltaState
from services.fetcher.unpublishable import FailureCounts, is_mail_fault

log = structlog.get_logger("services.fetcher")

#: Messages per delta page: few requests per mail, while ``$select`` keeps pages small.
PAGE_SIZE = 100

#: Publish the mails, confirmed, all or none (a raise: treat every one as not published).
Publish = Callable[[list[InboundEmail]], None]

#: Mails built before they are published together: one confirm wait per chunk, and the
#: size of one Graph ``$batch``.
CHUNK = 20

#: Mails whose attachments are listed together (``$batch``) before they are built: with a few
#: mails in a hundred carrying attachments, a chunk alone would seldom fill a batch.
PREFETCH = 100


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
    complete: bool
    resynced: bool
    #: Unpublishable mails moved to the quarantine folder by this round.
    quarantined: int = 0


class MailboxPoller:
    def __init__(
        self,
        box: MailboxConfig,
        graph: GraphMail,
        state: DeltaState,
        blobs: BlobStore,
        publish: Publish,
        inflight: InFlight,
        *,
        page_size: int = PAGE_SIZE,
        chunk: int = CHUNK,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.box = box
        self._graph = graph
        self._state = state
        self._builder = MailBuilder(box, graph, blobs)
        self._publish = publish
        self._inflight = inflight
        self._page_size = page_size
        self._chunk = chunk
        self._clock = clock
        self.status = PollStatus()
        #: Consecutive permanent failures per mail; decides when a mail is quarantined.
        self.failures = FailureCounts()

    @property
    def address(self) -> str:
        return self.box.address

    def run(self, stop: Event) -> None:
        """Poll until ``stop`` is set; no error ends the loop (each is logged and counted)."""
        log.info("polling", mailbox=self.address, folder=self.box.folder)
        while not stop.is_set():
            self.poll()
            stop.wait(self.box.poll_interval_s)
        log.info("poller stopped", mailbox=self.address)

    def poll(self) -> RoundResult | None:
        """One round; ``None`` when it failed (the status and metrics say why)."""
        try:
            result = self.round()
        except GraphAuthError as exc:
            # Every poll, at ERROR: a credential that stopped working must be seen at once.
            metrics.GRAPH_AUTH_FAILURES.labels(self.address).inc()
            self._failed(exc, "credential refused")
            return None
        except Exception as exc:  # a poller never dies; the next round tries again
            self._failed(exc, "poll failed")
            return None
        if result.complete:
            now = self._clock()
            metrics.LAST_SUCCESSFUL_POLL.labels(self.address).set(now)
            self.status = PollStatus(True, "ok", now)
        else:
            self.status = PollStatus(
                False, f"{result.failed} mail(s) could not be read", self.status.last_success
            )
        return result

    def _failed(self, exc: Exception, what: str) -> None:
        code = exc.code if isinstance(exc, MailpipeError) else "unexpected_error"
        hint = exc.hint if isinstance(exc, MailpipeError) else None
        metrics.POLL_FAILURES.labels(self.address, code).inc()
        permanent = isinstance(exc, PermanentError) or not isinstance(exc, MailpipeError)
        (log.error if permanent else log.warning)(
            what,
            mailbox=self.address,
            error=getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}",
            code=code,
            hint=hint,
        )
        self.status = PollStatus(False, f"{what}: {code}", self.status.last_success)

    def round(self) -> RoundResult:
        """Read the changes since the saved delta link; publish what is new; save the link
        when every mail was published. Retryable errors end the round (nothing saved)."""
        folder = self.box.folder
        link = self._state.get_delta_link(self.address, folder)
        delta = self._graph.delta(folder, link, select=FETCH_SELECT, page_size=self._page_size)
        if delta.resynced:
            log.warning("delta link expired; the folder was read again", mailbox=self.address)
        for gone in delta.removed:
            self._inflight.discard(self.address, gone)
            self.failures.forget(gone)
        counts = {"published": 0, "failed": 0, "quarantined": 0}
        skipped = 0
        fresh: list[tuple[str, Mapping[str, Any]]] = []
        for message in delta.messages:
            graph_id = str(message.get("id") or "")
            if not graph_id:
                continue
            if (self.address, graph_id) in self._inflight:
                skipped += 1
                continue
            fresh.append((graph_id, message))
        for start in range(0, len(fresh), PREFETCH):
            block = fresh[start : start + PREFETCH]
            self._builder.prefetch(block)
            for at in range(0, len(block), self._chunk):
                for outcome in self._chunk_of(block[at : at + self._chunk]):
                    counts[outcome] += 1
        complete = counts["failed"] == 0
        if complete:
            self._state.set_delta_link(self.address, folder, delta.delta_link)
        return RoundResult(
            counts["published"],
            skipped,
            counts["failed"],
            complete,
            delta.resynced,
            counts["quarantined"],
        )

    def _chunk_of(self, chunk: list[tuple[str, Mapping[str, Any]]]) -> list[str]:
        """Build every mail of the chunk, then publish the built ones together (one wait for
        the broker's confirms). One outcome per mail: ``published``, ``failed`` (permanently
        this round: the round stays incomplete, so the next one reads it again) or
        ``quarantined`` (it failed for reasons of its own too often). Retryable errors
        propagate and end the round."""
        outcomes: list[str] = []
        built: list[InboundEmail] = []
        for graph_id, message in chunk:
            metrics.MAILS_FETCHED.labels(self.address).inc()
            with bound_contextvars(correlation_id=graph_id, mailbox=self.address):
                outcome = self._guarded(graph_id, partial(self._builder.build, graph_id, message))
            if isinstance(outcome, InboundEmail):
                built.append(outcome)
            else:
                outcomes.append(outcome)
        if not built:
            return outcomes
        try:
            self._publish(built)
        except GraphAuthError:
            raise
        except PermanentError as exc:
            if len(built) == 1:
                with bound_contextvars(correlation_id=built[0].graph_id, mailbox=self.address):
                    outcomes.append(self._failed_mail(built[0].graph_id, exc))
                return outcomes
            # Which mail? Publish them one by one, so that the failure lands on its own mail.
            for email in built:
                with bound_contextvars(correlation_id=email.graph_id, mailbox=self.address):
                    done = self._guarded(email.graph_id, partial(self._publish, [email]))
                    outcomes.append(self._published(email) if done is None else str(done))
            return outcomes
        for email in built:
            with bound_contextvars(correlation_id=email.graph_id, mailbox=self.address):
                outcomes.append(self._published(email))
        return outcomes

    def _guarded(self, graph_id: str, step: Callable[[], Any]) -> Any:
        """Run one mail's step; its failure becomes that mail's outcome (a string)."""
        try:
            return step()
        except GraphNotFound:
            log.info("mail vanished before it was read; skipped")
            self.failures.forget(graph_id)
            return "published"
        except GraphAuthError:
            raise  # the credential, not the mail: poll() reports it for the mailbox
        except PermanentError as exc:
            return self._failed_mail(graph_id, exc)

    def _published(self, email: InboundEmail) -> str:
        self.failures.forget(email.graph_id)
        self._inflight.add(self.address, email.graph_id)
        metrics.MAILS_PUBLISHED.labels(self.address).inc()
        log.info("mail published", attachments=len(email.attachments))
        return "published"

    def _failed_mail(self, graph_id: str, exc: PermanentError) -> str:
        metrics.MAIL_FAILURES.labels(self.address).inc()
        if not is_mail_fault(exc):
            # Shared by every mail (permissions, topology): never a reason to quarantine.
            log.error("mail could not be published", error=exc.message, hint=exc.hint)
            return "failed"
        count = self.failures.failed(graph_id)
        if not self.failures.exhausted(count):
            log.error(
                "mail could not be published",
                error=exc.message,
                code=exc.code,
                hint=exc.hint,
                failures=count,
                quarantine_after=self.failures.limit,
            )
            return "failed"
        return self._quarantine(graph_id, exc, count)

    def _quarantine(self, graph_id: str, exc: PermanentError, count: int) -> str:
        """Move the mail aside so the mailbox moves on; nothing is published for it. The
        fetcher has no record store: this log line is where its reason is kept."""
        folder = self.box.quarantine_folder
        try:
            self._graph.move(graph_id, folder)
        except GraphNotFound:
            log.info("unpublishable mail vanished before it was quarantined; skipped")
            self.failures.forget(graph_id)
            return "published"
        except GraphAuthError:
            raise
        except PermanentError as move_exc:
            log.error(
                "unpublishable mail could not be moved to quarantine",
                error=exc.message,
                move_error=move_exc.message,
                hint=move_exc.hint,
                folder=folder,
            )
            return "failed"
        self.failures.forget(graph_id)  # moved back to the inbox later, it starts afresh
        metrics.QUARANTINED_UNPUBLISHABLE.labels(self.address).inc()
        log.error(
            "unpublishable mail moved to quarantine",
            error=exc.message,
            code=exc.code,
            hint=exc.hint,
            folder=folder,
            failures=count,
            action=f"look at the mail in the folder {folder!r}; once the cause is fixed, move "
            "it back to the inbox and it is fetched again",
        )
        return "quarantined"
