"""One mailbox's poller: a delta round every ``poll_interval_s``, each new mail published.

Runs on its own thread (one per mailbox), so a slow or failing mailbox never stalls the
others. Order of effects, so that nothing is lost: attachments and raw MIME go to the blob
store, then the InboundEmail is published (confirmed), and only when every mail of the round
is published is the delta link saved. A crash anywhere re-reads the round after a restart;
the ticketer's idempotency absorbs the repeats.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from threading import Event
from typing import Any

import structlog
from structlog.contextvars import bound_contextvars

from libs.common.blobs import BlobStore
from libs.common.contracts import AttachmentRef, InboundEmail
from libs.common.errors import ContractError, MailpipeError, PermanentError
from libs.common.graph import GraphAuthError, GraphMail, GraphNotFound
from libs.common.settings import MailboxConfig
from services.fetcher import metrics
from services.fetcher.domain import FETCH_SELECT, build_inbound, needs_attachments, needs_raw_mime
from services.fetcher.domain.mapping import attachment_ref
from services.fetcher.inflight import InFlight
from services.fetcher.state import DeltaState

log = structlog.get_logger("services.fetcher")

#: Messages per delta page: few requests per mail, while ``$select`` keeps pages small.
PAGE_SIZE = 100

Publish = Callable[[InboundEmail], None]


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
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.box = box
        self._graph = graph
        self._state = state
        self._blobs = blobs
        self._publish = publish
        self._inflight = inflight
        self._page_size = page_size
        self._clock = clock
        self.status = PollStatus()

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
        published = skipped = failed = 0
        for message in delta.messages:
            graph_id = str(message.get("id") or "")
            if not graph_id:
                continue
            if (self.address, graph_id) in self._inflight:
                skipped += 1
                continue
            metrics.MAILS_FETCHED.labels(self.address).inc()
            with bound_contextvars(correlation_id=graph_id, mailbox=self.address):
                if self._one(graph_id, message):
                    published += 1
                else:
                    failed += 1
        complete = failed == 0
        if complete:
            self._state.set_delta_link(self.address, folder, delta.delta_link)
        return RoundResult(published, skipped, failed, complete, delta.resynced)

    def _one(self, graph_id: str, message: Mapping[str, Any]) -> bool:
        """Publish one mail; False when it failed permanently (the round stays incomplete, so
        the next round reads it again). Retryable errors propagate and end the round."""
        try:
            email = self._inbound(graph_id, message)
            self._publish(email)
        except GraphNotFound:
            log.info("mail vanished before it was read; skipped")
            return True
        except PermanentError as exc:
            metrics.MAIL_FAILURES.labels(self.address).inc()
            log.error("mail could not be published", error=exc.message, hint=exc.hint)
            return False
        self._inflight.add(self.address, graph_id)
        metrics.MAILS_PUBLISHED.labels(self.address).inc()
        log.info("mail published", attachments=len(email.attachments))
        return True

    def _inbound(self, graph_id: str, message: Mapping[str, Any]) -> InboundEmail:
        attachments: list[AttachmentRef] = []
        if needs_attachments(message):
            for att in self._graph.get_attachments(graph_id):
                if not att.content and att.kind.endswith("referenceAttachment"):
                    continue  # a link to a file elsewhere, not bytes
                ref = self._blobs.put(att.content)
                attachments.append(
                    attachment_ref(
                        att.name,
                        att.content_type,
                        ref,
                        is_inline=att.is_inline,
                        content_id=att.content_id,
                    )
                )
        raw = None
        if needs_raw_mime(message, keep_raw_mime=self.box.keep_raw_mime):
            raw = self._blobs.put(self._graph.get_mime(graph_id))
        try:
            return build_inbound(
                message,
                mailbox=self.address,
                folder=self.box.folder,
                fetched_at=datetime.now(UTC),
                attachments=attachments,
                raw_mime=raw,
            )
        except ValueError as exc:  # pydantic's ValidationError: Graph sent what we cannot map
            raise ContractError(
                f"mail {graph_id[:40]} does not fit InboundEmail: {str(exc)[:300]}",
                hint="report this mail (it stays in the mailbox); the mapping needs a fix",
            ) from None
