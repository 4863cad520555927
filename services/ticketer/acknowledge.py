"""The auto-acknowledgement of a new record, once the plan decided to acknowledge: the rate
limit, the job, and its place in the outbox (docs/ticketer.md "Auto-acknowledgement", "The
outbox"). Whether and to whom is the domain's (:mod:`services.ticketer.domain.acknowledgement`).

Runs inside the email's unit: the rate reservation and the outbox row commit with the record,
or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from libs.common.contracts import InboundEmail, OutboundEmail
from libs.common.settings import MailboxConfig, MailpipeConfig
from services.ticketer import convert
from services.ticketer.domain.acknowledgement import AckPolicy, unhashed_ack_id
from services.ticketer.domain.ackrules import own_domains
from services.ticketer.domain.decision import AckIntent
from services.ticketer.metrics import TicketerMetrics
from services.ticketer.ports import Records

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class AckResult:
    """The job stored in the outbox (``None``: none), and whether the rate limit held it back."""

    job: OutboundEmail | None = None
    limited: bool = False


class Acknowledger:
    def __init__(
        self,
        store: Records,
        clock: Callable[[], datetime],
        first_retry: timedelta,
    ) -> None:
        """``first_retry``: how long the relay leaves an acknowledgement published by the
        handler before it publishes it again (unless the sender answered)."""
        self._store = store
        self._clock = clock
        self._first_retry = first_retry

    def acknowledge(self, email: InboundEmail, box: MailboxConfig, record_id: int) -> AckResult:
        """Reserve the acknowledgement of a new record and put its job in the outbox."""
        if self._store.ack_reserved(unhashed_ack_id(box.address, record_id)):
            # Acknowledged under the id acknowledgements had before they carried a digest: an
            # email redelivered across that upgrade is not acknowledged a second time.
            return AckResult()
        try:
            job = convert.ack_job(email, record_id, box.record_token_format, self._clock())
        except ValueError as exc:  # pydantic's ValidationError is one: an unusable address
            log.warning("no auto-acknowledgement: cannot build the job", error=str(exc)[:300])
            return AckResult()
        reserved = self._store.reserve_ack(
            job.job_id,
            mailbox=box.address,
            recipient=job.to[0].address,
            record_id=record_id,
            limit=box.auto_ack_per_hour,
        )
        if not reserved:
            return AckResult(limited=True)
        # In this email's transaction: committed with the record, or not at all. Published
        # after the commit; the relay publishes it again if no answer comes.
        body = job.to_json().decode()
        self._store.add_job(job.job_id, box.address, body, published=True, delay=self._first_retry)
        return AckResult(job)


def ack_policy(box: MailboxConfig, config: MailpipeConfig) -> AckPolicy:
    """The mailbox's acknowledgement settings; with ``auto_ack_own_domain`` a colleague at
    exactly its domain may be answered."""
    addresses = [a for b in config.mailboxes for a in (b.address, *b.send_as)]
    owns = own_domains(addresses, [b.id_domain for b in config.mailboxes])
    if not box.auto_ack_own_domain:
        return AckPolicy(box.auto_acknowledge, owns)
    mailboxes = tuple(b.address for b in config.mailboxes)
    return AckPolicy(box.auto_acknowledge, owns, box.address.rpartition("@")[2], mailboxes)


def report_skipped(
    metrics: TicketerMetrics, mailbox: str, record_id: int | None, refused: AckIntent
) -> None:
    metrics.acks_skipped.labels(mailbox, refused.reason).inc()
    log.info(
        "no auto-acknowledgement",
        record_id=record_id,
        reason=refused.reason,
        detail=refused.detail,
    )


def report_limited(metrics: TicketerMetrics, mailbox: str, record_id: int | None) -> None:
    metrics.acks_limited.labels(mailbox).inc()
    log.info("auto-acknowledgement rate limit reached", record_id=record_id)
