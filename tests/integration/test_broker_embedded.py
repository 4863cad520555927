"""Several consumer loops and their handlers' publishes in one process, the way the embedded
mode runs the services: one Broker, one thread per work queue, handlers that publish."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from libs.common.broker import Broker, Delivery
from libs.common.contracts import OutboundResult, ProcessedEmail
from tests.broker_helpers import namespaced_broker, publish_processed, wait_until


@pytest.fixture(params=["amqp", "memory"])
def broker(request: pytest.FixtureRequest, namespace: str) -> Iterator[Broker]:
    url = request.getfixturevalue("amqp_url") if request.param == "amqp" else "memory://"
    with namespaced_broker(url, namespace, heartbeat_s=5, prefetch=5) as b:
        yield b


def test_handlers_publish_to_the_next_stage(broker: Broker) -> None:
    total = 50
    results: list[str] = []
    lock = threading.Lock()

    def first_stage(message: ProcessedEmail, delivery: Delivery) -> None:
        result = OutboundResult(
            job_id=message.message_id, status="sent", finished_at=datetime.now(UTC)
        )
        broker.publish(
            broker.names.events, "outbound.sent", result, correlation_id=delivery.correlation_id
        )

    def second_stage(message: OutboundResult, delivery: Delivery) -> None:
        with lock:
            results.append(f"{message.job_id}/{delivery.correlation_id}")

    stop = threading.Event()
    threads = [
        threading.Thread(
            target=broker.consume,
            args=(broker.names.fetcher_processed, ProcessedEmail, first_stage),
            kwargs={"stop": stop},
        ),
        threading.Thread(
            target=broker.consume,
            args=(broker.names.ticketer_results, OutboundResult, second_stage),
            kwargs={"stop": stop},
        ),
    ]
    for thread in threads:
        thread.start()
    # publish from this thread while the handlers publish from theirs
    for n in range(total):
        publish_processed(broker, n)
    try:
        assert wait_until(lambda: len(results) >= total, timeout_s=60)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert sorted(results) == sorted(f"msg-{n}/corr-{n}" for n in range(total))
    assert broker.message_count(broker.names.fetcher_processed.name) == 0
    assert broker.message_count(broker.names.ticketer_results.name) == 0
