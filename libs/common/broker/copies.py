"""The copies the consumer loop publishes before it acks a message it gives back: to the
next retry tier, or to the dead-letter queue. Published confirmed and mandatory on the
loop's own channel, so that a crash between copy and ack duplicates, never loses. And the
hand-back of messages a session leaves unsettled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from kombu import Message

from libs.common.broker import policy
from libs.common.broker.delayed import DelayedRetries
from libs.common.broker.names import WorkQueue
from libs.common.broker.policy import Delivery, Outcome
from libs.common.broker.publisher import Outlet
from libs.common.broker.wire import body_of, copy_properties, delivery_of
from libs.common.metrics import DEAD_LETTERED

log = structlog.get_logger("libs.common.broker")


@dataclass
class Job:
    """A delivery in hand: the broker's message, its body and what was read from it."""

    message: Message
    body: bytes
    delivery: Delivery

    @property
    def properties(self) -> dict[str, Any]:
        return copy_properties(self.message, self.delivery)


def retry(
    outlet: Outlet,
    queue: WorkQueue,
    job: Job,
    outcome: Outcome,
    delayed: DelayedRetries | None,
) -> None:
    """Into retry tier ``outcome.tier`` (``delayed``: memory://, which has no TTL queues)."""
    assert outcome.tier is not None
    headers = policy.retry_headers(job.message.headers or {}, job.delivery)
    delay = queue.retry_delays_s[outcome.tier]
    if delayed is not None:
        delayed.push(delay, job.body, job.properties, headers)
    else:
        tier_queue = queue.retry(outcome.tier)
        outlet.send("", tier_queue, job.body, job.properties, headers, mandatory=True)
    log.warning(
        "message retried",
        queue=queue.name,
        tier=outcome.tier + 1,
        delay_s=delay,
        attempt=job.delivery.attempt,
        reason=outcome.reason,
        error=outcome.error,
    )


def dead_letter(outlet: Outlet, queue: WorkQueue, job: Job, outcome: Outcome) -> None:
    headers = policy.dead_letter_headers(job.message.headers or {}, job.delivery, outcome)
    headers[policy.HEADER_DEAD_AT] = datetime.now(UTC).isoformat(timespec="seconds")
    outlet.send("", queue.dead, job.body, job.properties, headers, mandatory=True)
    DEAD_LETTERED.labels(queue=queue.name, reason=outcome.reason or "unknown").inc()
    log.error(
        "message dead-lettered",
        queue=queue.name,
        dead_letter_queue=queue.dead,
        attempt=job.delivery.attempt,
        reason=outcome.reason,
        error=outcome.error,
    )


def hand_back(message: Message, queue: str, memory_outlet: Outlet | None) -> None:
    """Give an unsettled message back to ``queue``. Over AMQP (``memory_outlet`` None), reject
    with requeue (closing the channel would do the same). kombu's memory transport neither
    requeues on close (``do_restore = False``) nor requeues a rejected message into its own
    queue only (it routes it through the exchange again, copying it into every other bound
    queue), so there it is republished to ``queue`` on ``memory_outlet`` and acked."""
    if memory_outlet is None:
        message.reject(requeue=True)
        return
    delivery = delivery_of(message, queue)
    headers = policy.hand_back_headers(message.headers or {}, delivery)
    properties = copy_properties(message, delivery)
    memory_outlet.send("", queue, body_of(message), properties, headers, mandatory=False)
    message.ack()
