"""The sender's answers to the ticketer's jobs: any answer ends the outbox's publishing of its
job; a sent job with a record is also stored on the record (its Message-ID is how answers to it
thread back), unless the record or the job log says the claim is not to be believed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog

from libs.common.contracts import OutboundResult
from services.ticketer import convert
from services.ticketer.domain.sentcheck import SentClaim, refusal
from services.ticketer.metrics import TicketerMetrics
from services.ticketer.ports import Outbox, Records
from services.ticketer.store.errors import RecordNotFound

log = structlog.get_logger(__name__)


class SentResults:
    def __init__(
        self,
        store: Records,
        outbox: Outbox,
        metrics: TicketerMetrics,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._outbox = outbox
        self._metrics = metrics
        self._clock = clock

    def record(self, result: OutboundResult) -> None:
        if self._store.confirm_job(result.job_id, result.status, result.to_json().decode()):
            self._metrics.outbox_confirmed.labels(result.status).inc()
        if result.status != "sent" or result.record_id is None:
            return
        if result.mailbox is None or result.internet_message_id is None:
            log.warning("sent result without mailbox or Message-ID", job=result.job_id)
            return
        claim = SentClaim(result.mailbox, result.record_id, result.internet_message_id)
        logged = self._store.logged_send(result.job_id)
        why = refusal(claim, self._store.record_mailbox(result.record_id), logged)
        if why is not None:
            # Not stored: the record is another mailbox's, or the job log says otherwise.
            log.warning("sent result not stored on its record", job=result.job_id, reason=why)
            return
        try:
            _, stored = self._store.record_outbound(
                result.record_id, convert.outbound_message(result)
            )
        except RecordNotFound:
            log.info("sent result for a deleted record", record_id=result.record_id)
            return
        record = self._store.record_summary(result.record_id) if stored else None
        if stored:
            self._metrics.outbound_recorded.labels(result.mailbox).inc()
        if record is not None:  # else deleted since: nothing to announce
            mid = result.internet_message_id
            self._outbox.publish([convert.record_event(record, "outbound", mid, self._clock())])
