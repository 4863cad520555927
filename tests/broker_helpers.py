"""Helpers for the broker tests: a namespaced broker, a consumer thread, a recording handler,
reading a queue back, and a consumer process for the SIGTERM test
(``python -m tests.broker_helpers <url> <namespace> <handled-file> <sleep_s>``).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kombu import Queue

from libs.common.broker import Broker, Delivery, Names, WorkQueue, install_signal_handlers
from libs.common.broker.names import routing_key
from libs.common.contracts import ProcessedEmail

#: Short retry tiers so that a test walks through all of them quickly.
TEST_DELAYS_S = (0.2, 0.4)
MAILBOX = "help@example.com"


def names_for(namespace: str) -> Names:
    return Names(namespace, retry_delays_s=TEST_DELAYS_S)


@contextmanager
def namespaced_broker(url: str, namespace: str, **kwargs: Any) -> Iterator[Broker]:
    """A broker with the namespace declared; everything of the namespace deleted afterwards,
    the retry tiers of services started on it (the default delays) too."""
    broker = Broker(url, names_for(namespace), **kwargs)
    broker.declare()
    try:
        yield broker
    finally:
        broker.close()
        broker.delete()
        if not url.startswith("memory://"):  # no service runs on the in-memory transport
            with Broker(url, Names(namespace)) as services:
                services.delete()


def processed(n: int) -> ProcessedEmail:
    return ProcessedEmail(
        mailbox=MAILBOX,
        provider="microsoft",
        message_id=f"msg-{n}",
        outcome="created",
        record_id=n + 1,
        processed_at=datetime.now(UTC),
    )


def publish_processed(broker: Broker, n: int, **kwargs: Any) -> str:
    return broker.publish(
        broker.names.processed,
        routing_key("processed", MAILBOX),
        processed(n),
        correlation_id=f"corr-{n}",
        **kwargs,
    )


def publish_raw(broker: Broker, queue: WorkQueue, body: bytes, correlation_id: str) -> None:
    """A message no contract produced (bad JSON, wrong fields), straight into ``queue``."""
    conn = broker.connection()
    try:
        conn.connect()
        producer = conn.Producer(auto_declare=False)
        producer.publish(
            body,
            exchange="",
            routing_key=queue.name,
            content_type="application/json",
            content_encoding="utf-8",
            message_id=f"raw-{correlation_id}",
            correlation_id=correlation_id,
            delivery_mode=2,
        )
    finally:
        conn.release()


@dataclass
class Recorder:
    """A handler that records what it saw and can be told to fail for some messages."""

    fail: Callable[[ProcessedEmail, Delivery], None] | None = None
    seen: list[tuple[ProcessedEmail, Delivery]] = field(default_factory=list)
    invalid: list[tuple[bytes, Delivery, str]] = field(default_factory=list)
    dead: list[tuple[str, str]] = field(default_factory=list)
    #: Raised by ``on_dead`` while set (a hook that cannot do its work).
    dead_hook_error: Exception | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, message: ProcessedEmail, delivery: Delivery) -> None:
        with self._lock:
            self.seen.append((message, delivery))
        if self.fail is not None:
            self.fail(message, delivery)

    def on_invalid(self, body: bytes, delivery: Delivery, error: Exception) -> None:
        with self._lock:
            self.invalid.append((body, delivery, getattr(error, "code", "")))

    def on_dead(self, message: ProcessedEmail, delivery: Delivery, outcome: Any) -> None:
        if self.dead_hook_error is not None:
            raise self.dead_hook_error
        with self._lock:
            self.dead.append((message.message_id, outcome.reason))

    def ids(self) -> list[str]:
        with self._lock:
            return [m.message_id for m, _ in self.seen]


@contextmanager
def consuming(
    broker: Broker, queue: WorkQueue, recorder: Recorder, *, with_invalid_hook: bool = True
) -> Iterator[threading.Event]:
    """Run the consumer loop on a thread; stop it (and check it returned) on exit."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            broker.consume(
                queue,
                ProcessedEmail,
                recorder,
                stop=stop,
                on_invalid=recorder.on_invalid if with_invalid_hook else None,
                on_dead=recorder.on_dead,
            )
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, name=f"consume-{queue.name}", daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive(), "the consumer did not stop"
    assert not errors, f"the consumer loop raised {errors!r}"


def wait_until(predicate: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    """Poll until ``predicate`` holds; the deadline only keeps a broken test from hanging."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@dataclass(frozen=True)
class Got:
    body: bytes
    headers: dict[str, Any]
    properties: dict[str, Any]
    content_type: str


def drain(broker: Broker, queue_name: str) -> list[Got]:
    """Take every ready message out of ``queue_name``."""
    out: list[Got] = []
    conn = broker.connection()
    try:
        conn.connect()
        queue = Queue(queue_name, no_declare=True).bind(conn.channel())
        while (message := queue.get(no_ack=True)) is not None:
            body = message.body if isinstance(message.body, bytes) else message.body.encode()
            headers, props = dict(message.headers or {}), dict(message.properties or {})
            out.append(Got(body, headers, props, message.content_type))
    finally:
        conn.release()
    return out


def hand_back_head(broker: Broker, queue_name: str, times: int) -> None:
    """Take the message at the head of ``queue_name`` without acking it and close the channel,
    ``times`` times: what a consumer dying mid-handler does. RabbitMQ puts it back at the head,
    marked redelivered, and counts the returns in ``x-delivery-count``."""
    conn = broker.connection()
    try:
        conn.connect()
        for _ in range(times):
            channel = conn.channel()
            assert channel.basic_get(queue_name, no_ack=False) is not None, "the queue is empty"
            channel.close()
    finally:
        conn.release()


def worker_main(argv: list[str]) -> int:
    """A consumer process: records ``start <id>`` / ``done <id>`` lines, sleeps in the handler."""
    url, namespace, handled_file, sleep_s = argv[0], argv[1], Path(argv[2]), float(argv[3])
    stop = threading.Event()
    install_signal_handlers(stop)
    broker = Broker(url, names_for(namespace), heartbeat_s=5, prefetch=10)

    def record(line: str) -> None:
        with handled_file.open("a") as fh:
            fh.write(line + "\n")
            fh.flush()

    def handler(message: ProcessedEmail, delivery: Delivery) -> None:
        record(f"start {message.message_id}")
        time.sleep(sleep_s)
        record(f"done {message.message_id}")

    record("ready")
    broker.consume(broker.names.fetcher_processed, ProcessedEmail, handler, stop=stop)
    broker.close()
    return 0


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
