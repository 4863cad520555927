"""One round's mails, from the mail port's messages to published ``InboundEmail``s.

Mails are built in chunks of :data:`CHUNK` and each chunk is published together (one wait for
the broker's confirms); a failure lands on its own mail. Two kinds of mail never publish:

- *unpublishable*: a permanent fault of its own (it does not fit the contract, Graph refuses
  its parts with a 4xx that is about it): counted at once;
- *unread*: a read of its parts failed in a way that may be Graph's trouble with this mail (a
  500 after retries). It is judged at the end of the round (:meth:`MailFlow.finish`): counted
  only with a proof that Graph serves this mailbox while it refuses this mail
  (:mod:`services.fetcher.evidence`); when Graph fails for everyone, nothing is counted (an
  outage is no mail's fault).

After :data:`~services.fetcher.unpublishable.QUARANTINE_AFTER` counted rounds in a row a mail
is quarantined through :class:`~services.fetcher.quarantine.Quarantiner`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import structlog

from libs.common.contracts import InboundEmail
from libs.common.errors import PermanentError
from libs.common.logging import log_context
from libs.common.mail import MailAuthError, Mailbox, MailError, MailMessage, MailNotFound
from libs.common.settings import MailboxConfig
from services.fetcher import metrics
from services.fetcher.builder import MailBuilder, ReadFailed
from services.fetcher.evidence import LastErrors, Prober, Proof
from services.fetcher.inflight import InFlight
from services.fetcher.narrowing import Reads
from services.fetcher.quarantine import (
    MailFacts,
    Quarantined,
    Quarantiner,
    Reason,
    Unread,
    error_line,
)
from services.fetcher.unpublishable import FailureCounts, is_mail_fault

log = structlog.get_logger("services.fetcher")

#: Publish the mails, confirmed, all or none (a raise: treat every one as not published).
Publish = Callable[[list[InboundEmail]], None]

#: Mails built before they are published together: one confirm wait per chunk, and the
#: size of one Graph ``$batch``.
CHUNK = 20

#: Mails whose attachments are listed together (``$batch``) before they are built: with a few
#: mails in a hundred carrying attachments, a chunk alone would seldom fill a batch.
PREFETCH = 100

Message = tuple[str, MailMessage]

_UNREAD_HINT = (
    "Graph fails to serve this mail while it serves others; after a few rounds in a row it "
    "is moved to the folder {folder!r}"
)


class MailFlow:
    """One round's mails; ``counts`` holds the outcomes (``published``, ``failed``,
    ``quarantined``, ``vanished``). Not thread-safe: one per round of one poller."""

    def __init__(
        self,
        box: MailboxConfig,
        graph: Mailbox,
        builder: MailBuilder,
        publish: Publish,
        inflight: InFlight,
        failures: FailureCounts,
        quarantiner: Quarantiner,
        *,
        chunk: int = CHUNK,
        last_errors: LastErrors | None = None,
    ) -> None:
        self._box = box
        self._builder = builder
        self._publish = publish
        self._inflight = inflight
        self._failures = failures
        self._quarantiner = quarantiner
        self._chunk = chunk
        self.counts: Counter[str] = Counter()
        self.unread: list[Unread] = []
        self.prober = Prober(graph, builder.reads, box.folder, box.quarantine_folder)
        #: Lasts across rounds (the poller's): what each suspect failed with last time.
        self._last_errors = last_errors if last_errors is not None else LastErrors()

    @property
    def address(self) -> str:
        return self._box.address

    @property
    def reads(self) -> Reads:
        return self._builder.reads

    def fresh(self, messages: list[MailMessage]) -> tuple[list[Message], int]:
        """The mails not in flight, and how many were; every id is a probe's neighbour."""
        fresh: list[Message] = []
        skipped = 0
        for message in messages:
            message_id = message.id
            if not message_id:
                continue
            self.prober.neighbours.append(message_id)
            if (self.address, message_id) in self._inflight:
                skipped += 1
            else:
                fresh.append((message_id, message))
        return fresh, skipped

    def run(self, messages: list[Message]) -> None:
        """Build and publish ``messages`` (none of them in flight)."""
        for start in range(0, len(messages), PREFETCH):
            block = messages[start : start + PREFETCH]
            suspects = frozenset(gid for gid, _ in block if self._failures.is_suspect(gid))
            self._builder.prefetch(block, skip=suspects)
            for at in range(0, len(block), self._chunk):
                self.counts.update(self._chunk_of(block[at : at + self._chunk], suspects))
                self._stop_on_outage()

    def _stop_on_outage(self) -> None:
        """Reads of one kind keep failing and none succeeded: unless a neighbour's read of
        that kind proves Graph serves it, Graph fails for every mail; end the round."""
        for kind in ("attachments", "mime"):
            if self._builder.reads.everything_fails(kind) and not self.prober.proven(
                kind, self._unread_ids()
            ):
                raise next(u.error for u in reversed(self.unread) if u.kind == kind)

    def _unread_ids(self) -> set[str]:
        return {u.message_id for u in self.unread}

    def _chunk_of(self, chunk: list[Message], suspects: frozenset[str]) -> list[str]:
        """Build every mail of the chunk, then publish the built ones together."""
        outcomes: list[str] = []
        built: list[InboundEmail] = []
        for message_id, message in chunk:
            metrics.MAILS_FETCHED.labels(self.address).inc()
            suspect = message_id in suspects
            build = partial(self._builder.build, message_id, message, suspect=suspect)
            with log_context(correlation_id=message_id, mailbox=self.address):
                outcome = self._guarded(message_id, build, message)
            if isinstance(outcome, InboundEmail):
                built.append(outcome)
            else:
                outcomes.append(outcome)
        if built:
            outcomes += self._publish_built(built)
        return outcomes

    def _publish_built(self, built: list[InboundEmail]) -> list[str]:
        try:
            self._publish(built)
        except MailAuthError:
            raise
        except PermanentError as exc:
            if len(built) == 1:
                with log_context(correlation_id=built[0].message_id, mailbox=self.address):
                    return [self._failed_mail(built[0].message_id, exc, MailFacts())]
            # Which mail? Publish them one by one, so that the failure lands on its own mail.
            outcomes = []
            for email in built:
                with log_context(correlation_id=email.message_id, mailbox=self.address):
                    step = partial(self._publish, [email])
                    done = self._guarded(email.message_id, step, None)
                    outcomes.append(self._published(email) if done is None else str(done))
            return outcomes
        return [self._published(email) for email in built]

    def _guarded(
        self, message_id: str, step: Callable[[], Any], message: MailMessage | None
    ) -> Any:
        """Run one mail's step; its failure becomes that mail's outcome (a string), with the
        facts of ``message`` (made on a failure only: they cost CPU per mail)."""
        try:
            return step()
        except MailNotFound:
            log.info("mail vanished before it was read; skipped")
            self._failures.forget(message_id)
            return "vanished"
        except ReadFailed as exc:
            metrics.MAIL_FAILURES.labels(self.address).inc()
            self._failures.suspect(message_id)
            self.unread.append(Unread(message_id, exc.kind, exc.error, MailFacts.of(message)))
            return "unread"  # judged by finish()
        except MailAuthError:
            raise  # the credential, not the mail: poll() reports it for the mailbox
        except PermanentError as exc:
            return self._failed_mail(message_id, exc, MailFacts.of(message))

    def _published(self, email: InboundEmail) -> str:
        self._failures.forget(email.message_id)
        self._inflight.add(self.address, email.message_id)
        metrics.MAILS_PUBLISHED.labels(self.address).inc()
        # The mail's ids given, not bound around the call: a binding per mail costs more.
        log.info(
            "mail published",
            attachments=len(email.attachments),
            correlation_id=email.message_id,
            mailbox=self.address,
        )
        return "published"

    def _failed_mail(self, message_id: str, exc: PermanentError, facts: MailFacts) -> str:
        metrics.MAIL_FAILURES.labels(self.address).inc()
        if not is_mail_fault(exc):
            # Shared by every mail (permissions, topology): never a reason to quarantine.
            log.error("mail could not be published", error=exc.message, hint=exc.hint)
            return "failed"
        reason: Reason = "unreadable" if isinstance(exc, MailError) else "unpublishable"
        return self._count(message_id, reason, exc, facts)

    def unreadable(self, message_id: str, error: MailError, facts: MailFacts) -> None:
        """A mail whose properties Graph failed to serve (a by-id read); judged at the end."""
        metrics.MAIL_FAILURES.labels(self.address).inc()
        self._failures.suspect(message_id)
        self.unread.append(Unread(message_id, "message", error, facts))

    def finish(self) -> None:
        """Judge the round's unread mails: count those proven to be at fault, quarantine
        those that failed too often, leave the rest for the next round."""
        unread_ids = self._unread_ids()
        for unread in self.unread:
            with log_context(correlation_id=unread.message_id, mailbox=self.address):
                proof = self.prober.proof(unread.kind, unread_ids)
                if proof is not None:
                    self.counts[self._proven(unread, proof)] += 1
                    continue
                log.warning(
                    "mail could not be read; not counted: nothing shows Graph serves this "
                    "mailbox meanwhile (other mail, the listing or the folder fail too)",
                    read=unread.kind,
                    error=error_line(unread.error),
                    status=unread.error.status,
                    code=unread.error.code,
                )
                self.counts["failed"] += 1
        self.unread.clear()
        self._last_errors.retain(lambda message_id: self._failures.get(message_id) > 0)

    def _proven(self, unread: Unread, proof: Proof) -> str:
        error = unread.error
        if self._last_errors.restarts(
            unread.message_id, (unread.kind, error.status, error.code), proof
        ):
            log.info("mail fails otherwise than last round; its count starts again")
            self._failures.forget(unread.message_id)
            self._failures.suspect(unread.message_id)
        return self._count(unread.message_id, "unreadable", error, unread.facts)

    def _count(
        self, message_id: str, reason: Reason, exc: PermanentError | MailError, facts: MailFacts
    ) -> str:
        """One more failure of the mail's own; quarantined once they are enough."""
        count = self._failures.failed(message_id)
        unreadable = reason == "unreadable"
        if not self._failures.exhausted(count):
            log.error(
                "mail could not be read" if unreadable else "mail could not be published",
                error=error_line(exc),
                status=getattr(exc, "status", None),
                code=exc.code,
                hint=_UNREAD_HINT.format(folder=self._box.quarantine_folder)
                if unreadable
                else exc.hint,
                failures=count,
                quarantine_after=self._failures.limit,
            )
            return "failed"
        if unreadable and facts == MailFacts():
            facts = self.prober.facts_of(message_id)
        entry = Quarantined(
            mailbox=self.address,
            message_id=message_id,
            folder=self._box.folder,
            reason=reason,
            error=error_line(exc),
            code=exc.code,
            hint=(None if unreadable else exc.hint) or self._quarantiner.action(reason),
            failures=count,
            facts=facts,
        )
        moved = self._quarantiner.quarantine(entry)
        if moved == "failed":
            return "failed"
        self._failures.forget(message_id)  # moved back to the inbox later, it starts afresh
        return "quarantined" if moved == "quarantined" else "vanished"
