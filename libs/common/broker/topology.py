"""Declares (and, for tests, deletes) the topology of one namespace; see docs/broker.md.

Per work queue (``names.work_queues``):

* the quorum work queue, bound to its topic exchange, with ``x-delivery-limit`` and
  at-least-once dead-lettering into ``<queue>.dead`` through the default exchange;
* ``<queue>.dead``, a quorum queue nobody consumes: the operator's to inspect and replay;
* one quorum retry tier per delay: ``x-message-ttl`` and at-least-once dead-lettering back into
  the work queue through the default exchange. Nobody consumes a tier, so its messages expire
  in order (quorum queues only expire messages at the head, which is fine since every message
  of a tier has the same TTL).

At-least-once dead-lettering (RabbitMQ >= 3.10) needs ``x-overflow: reject-publish``; without
it the broker silently falls back to at-most-once. Checked on RabbitMQ 3.10.8: TTL expiry from
a quorum queue with these arguments reaches the target queue with reason ``expired``.

Declaring is idempotent while the arguments stay the same; a tier's name carries its delay, so
new delays make new tier queues instead of a PRECONDITION_FAILED clash with the old ones.
The channel may belong to a real AMQP connection or to kombu's ``memory://`` transport, which
ignores the arguments (the consumer emulates retry tiers there).
"""

from __future__ import annotations

from typing import Any

from libs.common.broker.names import DELIVERY_LIMIT, EXCHANGES, Names, WorkQueue

_QUORUM: dict[str, Any] = {"x-queue-type": "quorum"}


def _dead_letter_to(queue_name: str) -> dict[str, Any]:
    return {
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": queue_name,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


def work_queue_arguments(queue: WorkQueue, delivery_limit: int = DELIVERY_LIMIT) -> dict[str, Any]:
    return {**_QUORUM, "x-delivery-limit": delivery_limit, **_dead_letter_to(queue.dead)}


def retry_tier_arguments(queue: WorkQueue, tier: int) -> dict[str, Any]:
    ttl_ms = round(queue.retry_delays_s[tier] * 1000)
    return {**_QUORUM, "x-message-ttl": max(ttl_ms, 1), **_dead_letter_to(queue.name)}


def dead_queue_arguments() -> dict[str, Any]:
    return dict(_QUORUM)


def declare(channel: Any, names: Names) -> None:
    """Declare every exchange and work queue (with its dead-letter queue and tiers)."""
    for kind in EXCHANGES:
        declare_exchange(channel, names.exchange(kind))
    for queue in names.work_queues:
        declare_work_queue(channel, queue)


def declare_exchange(channel: Any, name: str) -> None:
    channel.exchange_declare(exchange=name, type="topic", durable=True, auto_delete=False)


def declare_work_queue(channel: Any, queue: WorkQueue) -> None:
    """One work queue and what belongs to it; its exchange is declared too (cheap, idempotent)
    so that a consumer can recreate its own part of the topology after a broker reset."""
    declare_exchange(channel, queue.exchange)
    _queue(channel, queue.dead, dead_queue_arguments())
    _queue(channel, queue.name, work_queue_arguments(queue))
    channel.queue_bind(queue=queue.name, exchange=queue.exchange, routing_key=queue.binding_key)
    for tier, name in enumerate(queue.retries):
        _queue(channel, name, retry_tier_arguments(queue, tier))


def _queue(channel: Any, name: str, arguments: dict[str, Any]) -> None:
    channel.queue_declare(
        queue=name, durable=True, exclusive=False, auto_delete=False, arguments=arguments
    )


def queue_names(names: Names) -> tuple[str, ...]:
    """Every queue of the namespace."""
    out: list[str] = []
    for queue in names.work_queues:
        out += [queue.name, queue.dead, *queue.retries]
    return tuple(out)


def delete(channel: Any, names: Names) -> None:
    """Delete every queue and exchange of the namespace, messages included (tests, teardown)."""
    for name in queue_names(names):
        channel.queue_delete(queue=name)
    for kind in EXCHANGES:
        channel.exchange_delete(exchange=names.exchange(kind))
