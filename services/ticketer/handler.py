"""``Ticketer``: one inbound email → exactly one outcome, then its effects (docs/ticketer.md).

Plan → apply → effects. The stored outcome wins: a redelivery publishes what the stored
decision says (:func:`services.ticketer.effects.effects_for`) and decides nothing again.
Otherwise the mail is classified, the store answers the plan's lookups, the pure ``plan``
makes a :class:`~services.ticketer.domain.decision.Decision`, and ``Applier.apply`` stores it
(outcome, change and acknowledgement intent, the acknowledgement's outbox row) in the batch's
transaction; only after the commit are its effects published. A crash between the write and
the publishes is healed by the redelivery; an acknowledgement the redelivery never comes for
(``memory://`` after a ``kill -9``) is published again from the outbox (relay.py).
No broker, HTTP or database API is called here: the ports of :mod:`services.ticketer.ports`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import structlog

from libs.common.broker.policy import Delivery, Outcome
from libs.common.contracts import InboundEmail, OutboundEmail, OutboundResult, QuarantinedEmail
from libs.common.db import utcnow
from libs.common.errors import ContractError, MailpipeError
from libs.common.logging import log_context
from libs.common.settings import MailboxConfig, MailpipeConfig
from services.ticketer import convert
from services.ticketer.acknowledge import Acknowledger, ack_policy, report_limited, report_skipped
from services.ticketer.apply import Applied, Applier
from services.ticketer.domain.classify import classify
from services.ticketer.domain.decision import ack_from_stored
from services.ticketer.domain.facts import MailFacts
from services.ticketer.domain.plan import plan
from services.ticketer.domain.threading import record_lookups
from services.ticketer.domain.threadkeys import batch_thread_keys, thread_keys
from services.ticketer.domain.verdict import Classification
from services.ticketer.effects import Effects, acknowledgement_job_id, effects_for, record_of
from services.ticketer.metrics import TicketerMetrics
from services.ticketer.ports import Blobs, Outbox, Records, RequesterLookup
from services.ticketer.quarantine import Quarantine
from services.ticketer.reading import read_facts
from services.ticketer.relay import retry_after
from services.ticketer.sent_results import SentResults
from services.ticketer.store.errors import UnitConflict
from services.ticketer.store.models import ProcessedRow, RecordSummary

log = structlog.get_logger(__name__)


class Ticketer:
    """Handles InboundEmail (``handle``), gives up on it (``on_dead``), records sent results
    (``handle_result``). Thread-safe when its ports are (the store and broker adapters are)."""

    def __init__(
        self,
        store: Records,
        blobs: Blobs,
        outbox: Outbox,
        config: MailpipeConfig,
        *,
        requesters: RequesterLookup | None = None,
        metrics: TicketerMetrics | None = None,
        clock: Callable[[], datetime] = utcnow,
        first_retry: timedelta | None = None,
    ) -> None:
        """``first_retry``: how long the relay leaves an acknowledgement published here before
        it publishes it again (unless the sender answered)."""
        self._store = store
        self._blobs = blobs
        self._outbox = outbox
        self._config = config
        self._metrics = metrics or TicketerMetrics()
        self._quarantine = Quarantine(store, outbox, config, self._metrics)
        self._sent_results = SentResults(store, outbox, self._metrics, clock)
        self._unit_lock = threading.Lock()
        self._clock = clock
        retry = first_retry if first_retry is not None else retry_after(1)
        self._applier = Applier(store, Acknowledger(store, clock, retry), requesters)
        self._ack_policies = {box.address: ack_policy(box, config) for box in config.mailboxes}

    def use(self, config: MailpipeConfig) -> None:
        """The next mail is judged by ``config`` (an integration changed)."""
        self._ack_policies = {box.address: ack_policy(box, config) for box in config.mailboxes}
        self._config = self._quarantine.config = config

    # -- inbound ---------------------------------------------------------------------------

    def handle(self, email: InboundEmail, delivery: Delivery | None = None) -> None:
        out = Effects()
        self._handle_alone(email, out)
        self._settle(out)

    def _handle_alone(self, email: InboundEmail, out: Effects) -> None:
        """One email in a unit of its own, holding its threads' locks. A write that loses a
        race to a concurrent handler of the same email is done again outside a unit, where
        it reads the winner's outcome."""
        own = Effects()
        try:
            with self._store.unit(thread_keys(email)):
                self._handle(email, own)
        except UnitConflict:
            own = Effects()
            self._handle(email, own)
        out.extend(own)

    def handle_batch(
        self, items: list[tuple[InboundEmail, Delivery]]
    ) -> list[BaseException | None]:
        """The emails of a batch in ONE database transaction, then every effect of the batch
        published at once (one wait for the broker's confirms), before any email is acked.

        If anything fails inside the transaction, it is rolled back and each email is handled
        again in a transaction of its own, so that a failure stays with its own email (which
        is retried or quarantined alone). A failed publish fails the whole batch; the
        redeliveries find their stored outcomes and publish them again.
        """
        self._applier.warm([email for email, _ in items])
        out = Effects()
        try:
            # One batch in the database at a time (SQLite would queue them anyway): a batch
            # behind another sees all of it; what overlaps is one's publishing, the other's work.
            # Its threads are locked first: another ticketer's batch holding a mail of one of
            # them is applied before this one reads anything (docs/ticketer.md).
            threads = batch_thread_keys(email for email, _ in items)
            with self._unit_lock, self._store.unit(threads):
                known = self._store.processed_outcomes(
                    [(e.mailbox, e.message_id) for e, _ in items]
                )
                # The new emails' lookups at once: one statement per mailbox, not several per email.
                # What it finds absent is believed for the whole unit, so it must come after
                # any lock the unit takes on its threads (docs/records.md).
                new = [e for e, _ in items if (e.mailbox, e.message_id) not in known]
                self._store.expect([convert.expected(e) for e in new])
                for email, delivery in items:
                    with _bound(delivery):
                        self._handle(email, out, known)
        except Exception as exc:  # rolled back: nothing of it was published or counted
            log.info(
                "batch rolled back; handling its emails one by one", error=exc.__class__.__name__
            )
            return self._one_by_one(items)
        self._settle(out)
        return [None] * len(items)

    def _one_by_one(self, items: list[tuple[InboundEmail, Delivery]]) -> list[BaseException | None]:
        results: list[BaseException | None] = []
        out = Effects()
        for email, delivery in items:
            own = Effects()
            with _bound(delivery):
                try:
                    self._handle_alone(email, own)
                except Exception as exc:  # this email's failure, retried on its own
                    results.append(exc)
                    continue
            results.append(None)
            out.extend(own)
        self._settle(out)
        return results

    def _settle(self, out: Effects) -> None:
        """After the commit: the metrics and log lines, then the publishes."""
        out.make_reports()
        self._outbox.publish(out.messages)
        self._jobs_published([m for m in out.messages if isinstance(m, OutboundEmail)])

    def _jobs_published(self, jobs: list[OutboundEmail]) -> None:
        """The broker confirmed the jobs: count them, and note it in the outbox (a note only:
        if it fails the relay still publishes them again once due, which is harmless)."""
        if not jobs:
            return
        for job in jobs:
            self._metrics.acks.labels(job.mailbox).inc()
        try:
            self._store.mark_published([job.job_id for job in jobs])
        except MailpipeError as exc:
            log.warning("outbox not marked published", error=exc.message)

    def _handle(
        self,
        email: InboundEmail,
        out: Effects,
        known: dict[tuple[str, str], ProcessedRow] | None = None,
    ) -> None:
        """``known``: the batch's stored outcomes, read at once (else this email's is read)."""
        box = self._config.mailbox(email.mailbox)
        if known is not None:
            done = known.get((email.mailbox, email.message_id))
        else:
            done = self._store.processed_outcome(email.mailbox, email.message_id)
        if done is not None:
            # A redelivery or re-fetch: the stored decision's effects, decided nothing anew.
            self._announce(done, box, self._record(done), self._stored_job(done), out)
            return
        facts = read_facts(self._blobs, email)
        verdict = self._classify(facts, box)
        lookups = record_lookups(email, facts, verdict, box.record_token_format)
        found = self._applier.find(email, box, lookups)
        decide = partial(plan, email, verdict, ack=self._ack_policies[box.address])
        applied = self._applier.apply(email, facts, box, decide(found), decide)
        self._first_effects(email, box, applied, out)

    def on_dead(self, email: InboundEmail, delivery: Delivery, outcome: Outcome) -> None:
        """The email could not be handled: quarantine it and tell the fetcher to move it."""
        self._quarantine.dead(email, delivery, outcome)

    def on_invalid(self, body: bytes, delivery: Delivery, error: ContractError) -> None:
        """An InboundEmail that breaks its contract: quarantined when its body names it."""
        self._quarantine.invalid(body, delivery, error)

    def handle_quarantined(self, event: QuarantinedEmail, delivery: Delivery | None = None) -> None:
        """Mail the fetcher quarantined itself: listed with the ticketer's own entries."""
        self._quarantine.from_fetcher(event)

    # -- sent results ----------------------------------------------------------------------

    def handle_result(self, result: OutboundResult, delivery: Delivery | None = None) -> None:
        """Any answer of the sender ends the outbox's publishing of its job; a sent job with a
        record is also stored on the record, so that answers thread back."""
        self._sent_results.record(result)

    # -- steps -----------------------------------------------------------------------------

    def _classify(self, facts: MailFacts, box: MailboxConfig) -> Classification:
        return classify(
            facts,
            mailbox=box.address,
            own_message_id_domain=box.id_domain,
            ignore_senders=box.ignore_senders,
        )

    # -- effects ---------------------------------------------------------------------------

    def _first_effects(
        self, email: InboundEmail, box: MailboxConfig, applied: Applied, out: Effects
    ) -> None:
        result = applied.result
        row = result.processed
        if not result.fresh:
            # A concurrent handler of the same email wrote it and publishes the rest.
            out.publish(convert.processed_email(row))
            return
        out.report(partial(self._report, email.mailbox, row, applied.decision.verdict.reason))
        record = result.record if result.record is not None else self._record(row)
        self._announce(row, box, record, applied.job, out)
        if applied.limited:
            out.report(partial(report_limited, self._metrics, box.address, row.record_id))

    def _announce(
        self,
        row: ProcessedRow,
        box: MailboxConfig,
        record: RecordSummary | None,
        job: OutboundEmail | None,
        out: Effects,
    ) -> None:
        """The stored decision's messages, and its refused acknowledgement's report."""
        for message in effects_for(row, record, job, self._clock()):
            out.publish(message)
        intent = ack_from_stored(row.ack)
        if row.outcome == "created" and intent is not None and intent.state == "refused":
            out.report(partial(report_skipped, self._metrics, box.address, row.record_id, intent))

    def _record(self, row: ProcessedRow) -> RecordSummary | None:
        record_id = record_of(row)
        return self._store.record_summary(record_id) if record_id is not None else None

    def _stored_job(self, row: ProcessedRow) -> OutboundEmail | None:
        """The acknowledgement the outbox holds for a stored decision, if it asked for one."""
        job_id = acknowledgement_job_id(row)
        stored = self._store.outbox_job(job_id) if job_id is not None else None
        if stored is None:
            return None
        try:
            return OutboundEmail.from_json(stored.body)
        except ContractError as exc:  # the relay answers it failed; nothing to publish here
            log.warning("stored acknowledgement unreadable", job=job_id, error=exc.message)
            return None

    def _report(self, mailbox: str, row: ProcessedRow, verdict_reason: str | None) -> None:
        self._metrics.count_outcome(mailbox, row.outcome, row.reason, row.change)
        log.info(
            "email handled",
            mailbox=mailbox,
            outcome=row.outcome,
            record_id=row.record_id,
            reason=row.reason or verdict_reason,
        )


def _bound(delivery: Delivery) -> Any:
    return log_context(correlation_id=delivery.correlation_id, amqp_message_id=delivery.message_id)
