"""The broker's own speed on this machine, measured in the same run as the pipeline: plain
pika, publisher confirms, a quorum queue, manual acks.

One connection publishes N persistent messages, waiting for each confirm (as the services'
publishers do); a second connection consumes them with the services' default prefetch and
acks each by hand. Both run at the same time, so the figure is N / (first publish → last
ack): the rate of a single confirmed hop through the broker, the ceiling a pipeline of
confirmed hops is compared with.
"""

from __future__ import annotations

import threading
import time

import pika
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection
from pika.exceptions import AMQPConnectionError

from libs.common.errors import BrokerError
from libs.common.redact import redact_url

#: The services' default prefetch (``MAILPIPE_PREFETCH``).
PREFETCH = 16


def raw_queue_name(namespace: str) -> str:
    """The benchmark's own queue; not part of the pipeline's topology, deleted after use."""
    return f"{namespace}.bench.raw"


def pika_parameters(amqp_url: str) -> pika.URLParameters:
    """pika's parameters for a kombu-style URL: kombu reads ``//`` as the vhost ``/``, pika as
    an empty vhost name, which the broker refuses."""
    params = pika.URLParameters(amqp_url)
    if params.virtual_host == "":
        params.virtual_host = "/"
    return params


def connect(amqp_url: str) -> BlockingConnection:
    try:
        return pika.BlockingConnection(pika_parameters(amqp_url))
    except AMQPConnectionError:
        raise BrokerError(
            f"cannot connect to RabbitMQ at {redact_url(amqp_url)}",
            hint="start RabbitMQ, or set MAILPIPE_AMQP_URL to a reachable broker",
        ) from None


def _declare(channel: BlockingChannel, queue: str) -> None:
    channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})


def _consume_all(amqp_url: str, queue: str, count: int, ready: threading.Event) -> None:
    conn = connect(amqp_url)
    try:
        channel = conn.channel()
        channel.basic_qos(prefetch_count=PREFETCH)
        seen = 0

        def on_message(ch: BlockingChannel, method: object, props: object, body: bytes) -> None:
            nonlocal seen
            ch.basic_ack(method.delivery_tag)  # type: ignore[attr-defined]
            seen += 1
            if seen >= count:
                ch.stop_consuming()

        channel.basic_consume(queue, on_message)
        ready.set()
        channel.start_consuming()
    finally:
        ready.set()
        conn.close()


def roundtrip_per_s(amqp_url: str, namespace: str, count: int, size: int) -> float:
    """Messages per second of ``count`` confirmed publishes + manual-ack consumes."""
    queue = raw_queue_name(namespace)
    conn = connect(amqp_url)
    try:
        channel = conn.channel()
        _declare(channel, queue)
        channel.confirm_delivery()
        ready = threading.Event()
        consumer = threading.Thread(
            target=_consume_all, args=(amqp_url, queue, count, ready), daemon=True
        )
        consumer.start()
        ready.wait(30)
        body = b"x" * size
        props = pika.BasicProperties(content_type="application/json", delivery_mode=2)
        started = time.perf_counter()
        for _ in range(count):
            # Blocks until the broker confirms: one message at a time, like the services.
            channel.basic_publish("", queue, body, props, mandatory=True)
        consumer.join()
        elapsed = time.perf_counter() - started
        channel.queue_delete(queue)
        return count / elapsed
    finally:
        conn.close()


def delete_raw_queue(amqp_url: str, namespace: str) -> None:
    """Remove the benchmark's queue (no error when it is already gone)."""
    conn = connect(amqp_url)
    try:
        conn.channel().queue_delete(raw_queue_name(namespace))
    finally:
        conn.close()
