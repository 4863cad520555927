"""The consumer against a hostile world: a handler slower than the heartbeat, the broker
closing every connection mid-run, and SIGTERM during a slow handler. Real RabbitMQ only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from libs.common.broker import Broker, Delivery
from libs.common.contracts import ProcessedEmail
from tests.broker_helpers import (
    Recorder,
    consuming,
    drain,
    namespaced_broker,
    publish_processed,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[2]
LOST = "consumer lost the broker; reconnecting"


@pytest.fixture
def broker(amqp_url: str, namespace: str) -> Iterator[Broker]:
    with namespaced_broker(amqp_url, namespace, heartbeat_s=2, prefetch=10, max_backoff_s=2) as b:
        yield b


def test_handler_slower_than_the_heartbeat_keeps_its_connection(broker: Broker) -> None:
    queue = broker.names.fetcher_processed

    def slow(message: ProcessedEmail, delivery: Delivery) -> None:
        if message.message_id == "msg-0":
            time.sleep(7)  # 3.5 heartbeat intervals

    recorder = Recorder(fail=slow)
    publish_processed(broker, 0)
    publish_processed(broker, 1)
    with capture_logs() as logs, consuming(broker, queue, recorder):
        assert wait_until(lambda: len(recorder.seen) >= 2)
    # handled once each, never redelivered: the connection (and the ack) survived
    assert recorder.ids() == ["msg-0", "msg-1"]
    assert [d.redelivered for _, d in recorder.seen] == [False, False]
    assert [e for e in logs if e["event"] == LOST] == []
    assert broker.message_count(queue.name) == 0


def test_consumer_survives_the_broker_closing_all_connections(broker: Broker) -> None:
    queue = broker.names.fetcher_processed
    total = 200

    def steady(message: ProcessedEmail, delivery: Delivery) -> None:
        time.sleep(0.01)

    recorder = Recorder(fail=steady)
    for n in range(total):
        publish_processed(broker, n)
    with capture_logs() as logs, consuming(broker, queue, recorder):
        assert wait_until(lambda: len(recorder.seen) >= 50)
        subprocess.run(
            ["rabbitmqctl", "close_all_connections", "test"], check=True, capture_output=True
        )
        assert wait_until(lambda: len(set(recorder.ids())) >= total, timeout_s=120)
        # the publisher lost its connection too: the next publish reconnects by itself
        publish_processed(broker, total)
        assert wait_until(lambda: f"msg-{total}" in recorder.ids())
    assert set(recorder.ids()) == {f"msg-{n}" for n in range(total + 1)}
    assert any(e["event"] == LOST for e in logs), "the connection was never closed"
    assert broker.message_count(queue.name) == 0
    assert drain(broker, queue.dead) == []


def test_sigterm_during_a_slow_handler_finishes_and_acks(
    broker: Broker, amqp_url: str, tmp_path: Path
) -> None:
    queue = broker.names.fetcher_processed
    handled = tmp_path / "handled.txt"
    handled.touch()
    for n in range(3):
        publish_processed(broker, n)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.broker_helpers",
            amqp_url,
            broker.names.namespace,
            str(handled),
            "2",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert wait_until(lambda: "start msg-0" in handled.read_text(), timeout_s=60)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output.decode(errors="replace")
    lines = handled.read_text().splitlines()
    # the message in the handler was finished (and acked); the handler started no other one
    assert lines[-2:] == ["start msg-0", "done msg-0"]
    left = sorted(ProcessedEmail.from_json(g.body).message_id for g in drain(broker, queue.name))
    assert left == ["msg-1", "msg-2"]  # the prefetched ones went back to the queue: none lost
