"""The auto-acknowledgement of a new record: whom it may go to, the rate limit, the job, and
its place in the outbox (docs/ticketer.md "Auto-acknowledgement", "The outbox").

Runs inside the email's unit: the rate reservation and the outbox row commit with the record,
or not at all. What it publishes and reports is collected in the caller's ``Effects``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

import structlog

from libs.common.contracts import InboundEmail
from libs.common.settings import MailboxConfig, MailpipeConfig
from services.ticketer import convert
from services.ticketer.domain.ackrules import (
    AckRefusal,
    ack_refusal,
    colleague_refusal,
    own_domains,
)
from services.ticketer.effects import Effects
from services.ticketer.metrics import TicketerMetrics
from services.ticketer.ports import Records

log = structlog.get_logger(__name__)


class Acknowledger:
    def __init__(
        self,
        store: Records,
        config: MailpipeConfig,
        metrics: TicketerMetrics,
        clock: Callable[[], datetime],
        first_retry: timedelta,
    ) -> None:
        """``first_retry``: how long the relay leaves an acknowledgement published by the
        handler before it publishes it again (unless the sender answered)."""
        self._store = store
        self._config = config
        self._metrics = metrics
        self._clock = clock
        self._first_retry = first_retry

    def acknowledge(
        self, email: InboundEmail, box: MailboxConfig, record_id: int, out: Effects
    ) -> None:
        if not box.auto_acknowledge:
            return
        recipient = convert.ack_recipient(email)
        refusal = ack_refusal_for(recipient.address if recipient else None, box, self._config)
        if refusal is not None or recipient is None:
            refusal = refusal or AckRefusal("no_from")
            out.report(partial(self._ack_skipped, box.address, record_id, refusal))
            return
        if self._store.ack_reserved(_unhashed_ack_id(box.address, record_id)):
            # Acknowledged under the id acknowledgements had before they carried a digest: an
            # email redelivered across that upgrade is not acknowledged a second time.
            return
        try:
            job = convert.ack_job(email, record_id, box.record_token_format, self._clock())
        except ValueError as exc:  # pydantic's ValidationError is one: an unusable address
            log.warning("no auto-acknowledgement: cannot build the job", error=str(exc)[:300])
            return
        reserved = self._store.reserve_ack(
            job.job_id,
            mailbox=box.address,
            recipient=recipient.address,
            record_id=record_id,
            limit=box.auto_ack_per_hour,
        )
        if not reserved:
            out.report(partial(self._ack_limited, box.address, record_id))
            return
        # In this email's transaction: committed with the record, or not at all. Published
        # below after the commit; the relay publishes it again if no answer comes.
        body = job.to_json().decode()
        self._store.add_job(job.job_id, box.address, body, published=True, delay=self._first_retry)
        out.publish(job)

    def _ack_skipped(self, mailbox: str, record_id: int, refusal: AckRefusal) -> None:
        self._metrics.acks_skipped.labels(mailbox, refusal.reason).inc()
        log.info(
            "no auto-acknowledgement",
            record_id=record_id,
            reason=refusal.reason,
            detail=refusal.detail,
        )

    def _ack_limited(self, mailbox: str, record_id: int) -> None:
        self._metrics.acks_limited.labels(mailbox).inc()
        log.info("auto-acknowledgement rate limit reached", record_id=record_id)


def _unhashed_ack_id(mailbox: str, record_id: int) -> str:
    """The acknowledgement id of a record before ids carried the email's digest."""
    return f"ack:{mailbox.lower()}:{record_id}"


def ack_refusal_for(
    address: str | None, box: MailboxConfig, config: MailpipeConfig
) -> AckRefusal | None:
    """Why no acknowledgement may go to ``address`` (``None``: it may); with the mailbox's
    ``auto_ack_own_domain`` a colleague at exactly its domain may be answered."""
    if not box.auto_ack_own_domain:
        return ack_refusal(address, _own_domains(config))
    own = box.address.rpartition("@")[2]
    mailboxes = [b.address for b in config.mailboxes]
    return colleague_refusal(address, _own_domains(config), own, mailboxes)


def _own_domains(config: MailpipeConfig) -> tuple[str, ...]:
    """Every domain an acknowledgement must not go to: the mailboxes', their send-as agents',
    and the Message-ID domains."""
    addresses = [a for box in config.mailboxes for a in (box.address, *box.send_as)]
    return own_domains(addresses, [box.id_domain for box in config.mailboxes])
