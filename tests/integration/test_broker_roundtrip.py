"""Confirmed publish → consume → ack, over RabbitMQ and over ``memory://``; unroutable publishes;
namespaces that never see each other's messages."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import structlog
from amqp.exceptions import NotFound
from structlog.testing import capture_logs

from libs.common.broker import Broker, Delivery, Names
from libs.common.broker.names import routing_key
from libs.common.contracts import ProcessedEmail
from libs.common.errors import PermanentError, UnroutableError
from tests.broker_helpers import (
    MAILBOX,
    Recorder,
    consuming,
    drain,
    namespaced_broker,
    processed,
    publish_processed,
    wait_until,
)


@pytest.fixture(params=["amqp", "memory"])
def broker(request: pytest.FixtureRequest, namespace: str) -> Iterator[Broker]:
    url = request.getfixturevalue("amqp_url") if request.param == "amqp" else "memory://"
    with namespaced_broker(url, namespace, heartbeat_s=5, prefetch=5) as b:
        yield b


def test_round_trip_acks_every_message(broker: Broker) -> None:
    queue = broker.names.fetcher_processed
    sent = {publish_processed(broker, n): n for n in range(20)}
    recorder = Recorder()
    with consuming(broker, queue, recorder):
        assert wait_until(lambda: len(recorder.seen) >= 20)
    assert sorted(recorder.ids()) == sorted(f"msg-{n}" for n in range(20))
    for message, delivery in recorder.seen:
        n = sent[delivery.message_id]
        assert message == processed(n).model_copy(update={"processed_at": message.processed_at})
        assert delivery.correlation_id == f"corr-{n}"
        assert delivery.attempt == 1
        assert delivery.routing_key == routing_key("processed", MAILBOX)
        assert delivery.queue == queue.name
    # acked: nothing is left once the consumer has gone
    assert broker.message_count(queue.name) == 0
    assert drain(broker, queue.dead) == []


def test_published_properties(broker: Broker) -> None:
    message_id = publish_processed(broker, 1)
    (got,) = drain(broker, broker.names.fetcher_processed.name)
    assert got.properties["message_id"] == message_id
    assert got.properties["correlation_id"] == "corr-1"
    assert got.properties["type"] == "mailpipe.processed_email.v2"
    assert got.properties["delivery_mode"] == 2
    assert got.content_type == "application/json"
    assert ProcessedEmail.from_json(got.body).message_id == "msg-1"


def test_unroutable_mandatory_publish_raises(broker: Broker) -> None:
    with pytest.raises(UnroutableError):
        broker.publish(
            broker.names.events, "nobody.listens", processed(1), correlation_id="c", mandatory=True
        )
    # the publisher stays usable after the refusal
    publish_processed(broker, 2)
    assert len(drain(broker, broker.names.fetcher_processed.name)) == 1


def test_unroutable_without_mandatory_is_dropped_quietly(broker: Broker) -> None:
    broker.publish(
        broker.names.events, "nobody.listens", processed(1), correlation_id="c", mandatory=False
    )
    assert broker.message_count(broker.names.fetcher_processed.name) == 0


def test_publish_to_a_missing_exchange_is_unroutable(broker: Broker) -> None:
    with pytest.raises(UnroutableError):
        broker.publish(
            "no-such-exchange-" + broker.names.namespace, "x", processed(1), correlation_id="c"
        )
    publish_processed(broker, 3)
    assert len(drain(broker, broker.names.fetcher_processed.name)) == 1


def test_namespaces_never_see_each_other(amqp_url: str, namespace: str) -> None:
    with (
        namespaced_broker(amqp_url, namespace + "a") as a,
        namespaced_broker(amqp_url, namespace + "b") as b,
    ):
        for n in range(10):
            publish_processed(a, n)
            publish_processed(b, 100 + n)
        seen_a, seen_b = Recorder(), Recorder()
        with (
            consuming(a, a.names.fetcher_processed, seen_a),
            consuming(b, b.names.fetcher_processed, seen_b),
        ):
            assert wait_until(lambda: len(seen_a.seen) >= 10 and len(seen_b.seen) >= 10)
        assert sorted(seen_a.ids()) == sorted(f"msg-{n}" for n in range(10))
        assert sorted(seen_b.ids()) == sorted(f"msg-{100 + n}" for n in range(10))


def test_a_test_namespace_leaves_no_queue_of_the_services_started_on_it(
    amqp_url: str, namespace: str
) -> None:
    """Services on a test's namespace declare the default retry tiers, not the test's short
    ones: the namespace's teardown deletes those too, so runs leave nothing in the broker."""
    with namespaced_broker(amqp_url, namespace) as broker:
        with Broker(amqp_url, Names(namespace)) as service:
            service.declare()
        tiers = [tier for queue in service.names.work_queues for tier in queue.retries]
        assert not set(tiers) & {t for q in broker.names.work_queues for t in q.retries}
    with Broker(amqp_url, Names(namespace)) as probe:
        for name in [*tiers, *(q.name for q in probe.names.work_queues)]:
            with pytest.raises(NotFound):
                probe.message_count(name)


def test_handler_runs_with_ids_bound_and_one_log_line_per_outcome(broker: Broker) -> None:
    bound: list[dict[str, object]] = []

    def record_context(message: ProcessedEmail, delivery: Delivery) -> None:
        bound.append(structlog.contextvars.get_contextvars())
        if message.message_id == "msg-1":
            raise PermanentError("no", code="nope")

    recorder = Recorder(fail=record_context)
    ids = [publish_processed(broker, n) for n in range(3)]
    merge = [structlog.contextvars.merge_contextvars]
    queue = broker.names.fetcher_processed
    with capture_logs(processors=merge) as logs, consuming(broker, queue, recorder):
        assert wait_until(lambda: len(recorder.seen) >= 3)
        assert wait_until(lambda: sum(e["event"].startswith("message ") for e in logs) >= 3)
    assert sorted((c["amqp_message_id"], c["correlation_id"]) for c in bound) == sorted(
        (message_id, f"corr-{n}") for n, message_id in enumerate(ids)
    )
    outcomes = sorted(
        (e["event"], e["amqp_message_id"]) for e in logs if e["event"].startswith("message ")
    )
    assert outcomes == sorted(
        [("message acked", ids[0]), ("message dead-lettered", ids[1]), ("message acked", ids[2])]
    )
    dead = next(e for e in logs if e["event"] == "message dead-lettered")
    assert (dead["reason"], dead["correlation_id"]) == ("nope", "corr-1")


def test_stop_hands_prefetched_messages_back_to_their_own_queue_only(broker: Broker) -> None:
    """Another queue bound to the same exchange must not get a second copy of them."""
    other = f"{broker.names.namespace}.audit"
    conn = broker.connection()
    try:
        conn.connect()
        channel = conn.channel()
        channel.queue_declare(queue=other, durable=True, auto_delete=False)
        channel.queue_bind(queue=other, exchange=broker.names.processed, routing_key="#")
    finally:
        conn.release()
    started = threading.Event()

    def slow_first(message: ProcessedEmail, delivery: Delivery) -> None:
        if message.message_id == "msg-0":
            started.set()
            time.sleep(0.5)

    recorder = Recorder(fail=slow_first)
    for n in range(5):
        publish_processed(broker, n)
    try:
        with consuming(broker, broker.names.fetcher_processed, recorder) as stop:
            assert started.wait(30)
            stop.set()
        assert recorder.ids() == ["msg-0"]
        left = drain(broker, broker.names.fetcher_processed.name)
        assert sorted(ProcessedEmail.from_json(g.body).message_id for g in left) == [
            f"msg-{n}" for n in range(1, 5)
        ]
        assert len(drain(broker, other)) == 5
    finally:
        conn = broker.connection()
        try:
            conn.connect()
            conn.channel().queue_delete(queue=other)
        finally:
            conn.release()
