"""``OutboxRelay``: publishes the outbox's jobs to the sender until the sender answers.

The handler stores each acknowledgement in the outbox in the transaction of its record and
publishes it right after the commit; the relay is what makes that publish survive a crash. It
claims the jobs that are due (unconfirmed, next attempt passed), publishes them, notes the
broker's confirm, and moves each one's next attempt ahead with backoff, so a job is published
again and again until an ``OutboundResult`` for its id (any status) confirms it
(:meth:`Ticketer.handle_result`). Publishing again is safe: the sender answers a job id it
has seen from its job log and sends nothing twice (docs/sending.md). Several ticketers may
run relays on one database: a claim moves the job's next attempt, so the others skip it.
No broker or database API here: the store and the publish function are passed in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from libs.common.contracts import OutboundEmail
from libs.common.db import utcnow
from libs.common.errors import ContractError, MailpipeError
from services.ticketer.metrics import TicketerMetrics
from services.ticketer.store.models import OutboxRow

log = structlog.get_logger(__name__)

#: The first publish again, if the sender has not answered by then: it answers in seconds
#: when it is up, so this only matters after a crash, an outage or a lost message.
FIRST_RETRY_S = 60.0
#: Backoff doubles up to this: a sender that is down for hours is asked every ten minutes.
MAX_RETRY_S = 600.0
#: Jobs claimed per round; a full round is followed by the next one at once.
CLAIM_LIMIT = 100
#: How often an idle relay looks for due jobs (``mailpipe send`` writes some from outside).
POLL_S = 1.0
#: Answered jobs stay this long for ``mailpipe send --wait`` and inspection, then go.
KEEP_CONFIRMED = timedelta(days=7)
#: After this many attempts each further one is logged as a warning (the sender never answers).
WARN_AFTER_ATTEMPTS = 5


def retry_after(
    attempts: int, *, first_s: float = FIRST_RETRY_S, cap_s: float = MAX_RETRY_S
) -> timedelta:
    """How long after publish number ``attempts`` (1 = the first) to publish again."""
    exponent = min(max(attempts - 1, 0), 32)  # bounded: 2**32 minutes is past any cap
    return timedelta(seconds=min(cap_s, first_s * 2**exponent))


class OutboxStore(Protocol):
    def claim_due(self, limit: int, backoff: Callable[[int], timedelta]) -> list[OutboxRow]: ...

    def mark_published(self, job_ids: Sequence[str]) -> None: ...

    def confirm_job(self, job_id: str, status: str, result: str) -> bool: ...

    def make_pending_due(self) -> int: ...

    def forget_confirmed(self, before: datetime) -> int: ...


Publish = Callable[[Sequence[OutboundEmail]], None]


class OutboxRelay:
    def __init__(
        self,
        store: OutboxStore,
        publish: Publish,
        *,
        backoff: Callable[[int], timedelta] = retry_after,
        limit: int = CLAIM_LIMIT,
        poll_s: float = POLL_S,
        metrics: TicketerMetrics | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._publish = publish
        self._backoff = backoff
        self._limit = limit
        self._poll_s = poll_s
        self._metrics = metrics or TicketerMetrics()
        self._clock = clock
        self._last_cleanup: datetime | None = None

    def publish_due(self) -> int:
        """One round: claim what is due, publish it, note the confirm. Returns the number
        claimed. A failed publish raises; the claimed jobs are due again after their backoff."""
        claimed = self._store.claim_due(self._limit, self._backoff)
        jobs = [job for job in map(self._job, claimed) if job is not None]
        if not jobs:
            return len(claimed)
        self._publish(jobs)
        self._store.mark_published([job.job_id for job in jobs])
        for row in claimed:
            self._metrics.outbox_published.labels(row.mailbox).inc()
            if row.attempts > WARN_AFTER_ATTEMPTS:
                log.warning(
                    "outbox job still unanswered; published again",
                    job_id=row.job_id,
                    attempts=row.attempts,
                    hint="check that the sender runs and look at its dead-letter queue",
                )
        log.info("outbox jobs published", count=len(jobs))
        return len(claimed)

    def _job(self, row: OutboxRow) -> OutboundEmail | None:
        try:
            return OutboundEmail.from_json(row.body)
        except ContractError as exc:
            # Stored by an older version under another contract: it can never be sent, so it
            # is answered here rather than published forever.
            log.error("outbox job unreadable; given up", job_id=row.job_id, error=str(exc)[:300])
            self._store.confirm_job(row.job_id, "failed", "")
            return None

    def restarted_without_queues(self) -> None:
        """The broker lost its queues (``memory://`` after a restart): every unanswered job
        is due now instead of after its backoff."""
        count = self._store.make_pending_due()
        if count:
            log.info("outbox jobs unanswered before the restart; publishing them", count=count)

    def run(self, stop: threading.Event) -> None:
        """Rounds until ``stop``; a failure is logged and the round comes again."""
        while not stop.is_set():
            try:
                full = self.publish_due() >= self._limit
                self._cleanup()
            except MailpipeError as exc:
                log.warning("outbox not published", error=exc.message, hint=exc.hint)
                full = False
            except Exception as exc:  # the thread must live: the jobs stay in the outbox
                log.exception("outbox not published", error=exc.__class__.__name__)
                full = False
            if not full:
                stop.wait(self._poll_s)

    def _cleanup(self) -> None:
        now = self._clock()
        if self._last_cleanup is not None and now - self._last_cleanup < timedelta(hours=1):
            return
        self._last_cleanup = now
        dropped = self._store.forget_confirmed(now - KEEP_CONFIRMED)
        if dropped:
            log.info("answered outbox jobs dropped", count=dropped)
