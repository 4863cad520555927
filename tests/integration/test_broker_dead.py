"""Dead-letter queues on RabbitMQ (libs/common/broker/dead_queue.py): listing shows what, why,
when and how many times and changes nothing; retry puts a message back once and its consumer
handles it; drop removes only what it names."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from libs.common.broker import Broker, Delivery, dead_queue
from libs.common.broker.dead import HEADER_REPLAYS
from libs.common.broker.dead_queue import DeadLetters, QueueMissing
from libs.common.broker.names import DELIVERY_LIMIT
from libs.common.broker.policy import HEADER_ROUTING_KEY
from libs.common.contracts import ProcessedEmail
from libs.common.errors import ConfigError, PermanentError, RetryableError
from tests.broker_helpers import (
    Recorder,
    consuming,
    drain,
    hand_back_head,
    namespaced_broker,
    processed,
    publish_processed,
    publish_raw,
    wait_until,
)

ROUTING_KEY = "processed.help@example.com"


class Switch:
    """Fails chosen messages while on: a cause an operator fixes before retrying."""

    def __init__(self, failures: dict[str, Exception]) -> None:
        self.failures = failures
        self.on = threading.Event()
        self.on.set()

    def __call__(self, message: ProcessedEmail, delivery: Delivery) -> None:
        if self.on.is_set() and message.message_id in self.failures:
            raise self.failures[message.message_id]


def _park(broker: Broker, switch: Switch, recorder: Recorder, count: int) -> None:
    """Run the consumer until ``count`` messages sit in the dead-letter queue."""
    queue = broker.names.fetcher_processed
    with consuming(broker, queue, recorder):
        assert wait_until(lambda: broker.message_count(queue.dead) >= count)


def _dead_count(queue: str, reason: str) -> float:
    labels = {"queue": queue, "reason": reason}
    return REGISTRY.get_sample_value("mailpipe_dead_lettered_total", labels) or 0.0


@pytest.fixture
def parked(broker: Broker) -> tuple[Broker, Switch, Recorder, dict[str, str]]:
    """Three dead letters: a permanent error, retries used up, a body that is no contract."""
    switch = Switch(
        {
            "msg-0": PermanentError("mailbox gone", code="mailbox_not_found", hint="fix it"),
            "msg-1": RetryableError("graph throttled", code="throttled"),
        }
    )
    recorder = Recorder(fail=switch)
    ids = {"msg-0": publish_processed(broker, 0), "msg-1": publish_processed(broker, 1)}
    publish_raw(broker, broker.names.fetcher_processed, b"{not json", correlation_id="bad")
    ids["bad"] = "raw-bad"
    _park(broker, switch, recorder, 3)
    return broker, switch, recorder, ids


def test_list_shows_what_why_when_and_how_many_times(parked) -> None:
    broker, _, _, ids = parked
    queue = broker.names.fetcher_processed
    before = datetime.now(UTC) - timedelta(minutes=5)
    done = DeadLetters(broker).read(queue)
    assert done.ready == 3
    by_id = {letter.key: letter for letter in done.seen}
    assert set(by_id) == set(ids.values())
    gone = by_id[ids["msg-0"]]
    assert (gone.reason, gone.error, gone.hint) == ("mailbox_not_found", "mailbox gone", "fix it")
    assert gone.attempts == 1 and gone.retries == 0
    assert gone.schema == "mailpipe.processed_email.v2"
    assert gone.correlation_id == "corr-0"
    assert gone.what["mailbox"] == "help@example.com" and gone.what["message_id"] == "msg-0"
    walked = by_id[ids["msg-1"]]
    assert walked.reason == "throttled"
    assert walked.attempts == 3 and walked.retries == 2  # two tiers, then the dead queue
    assert "gave up after 3 attempts" in walked.hint
    bad = by_id["raw-bad"]
    assert bad.reason == "contract_violation" and bad.what == {}
    for letter in done.seen:
        assert letter.dead_at is not None and before <= letter.dead_at <= datetime.now(UTC)
        assert letter.work_queue == queue.name and letter.dead_queue == queue.dead


def test_listing_loses_nothing_and_keeps_the_order(parked) -> None:
    broker, _, _, _ = parked
    queue = broker.names.fetcher_processed
    letters = DeadLetters(broker)
    first = [letter.key for letter in letters.read(queue).seen]
    for _ in range(3):
        assert [letter.key for letter in letters.read(queue).seen] == first
    assert [letter.key for letter in letters.read(queue, limit=1).seen] == first[:1]
    assert broker.message_count(queue.dead) == 3
    got = drain(broker, queue.dead)
    assert [g.properties.get("message_id") for g in got] == first


def test_retry_puts_one_back_and_its_consumer_handles_it(parked) -> None:
    broker, switch, recorder, ids = parked
    queue = broker.names.fetcher_processed
    letters = DeadLetters(broker)
    switch.on.clear()  # the cause is fixed
    done = letters.retry(queue, lambda letter: letter.key == ids["msg-0"])
    assert [letter.key for letter in done.acted] == [ids["msg-0"]]
    assert broker.message_count(queue.dead) == 2
    handled_before = recorder.ids().count("msg-0")
    with consuming(broker, queue, recorder):
        assert wait_until(lambda: recorder.ids().count("msg-0") == handled_before + 1)
    (_, delivery) = [(m, d) for m, d in recorder.seen if m.message_id == "msg-0"][-1]
    assert delivery.message_id == ids["msg-0"]
    assert delivery.attempt == 1  # a fresh retry budget
    assert delivery.routing_key == ROUTING_KEY
    assert delivery.headers[HEADER_REPLAYS] == 1
    assert broker.message_count(queue.name) == 0
    # The other two stayed where they were, untouched.
    assert {letter.key for letter in letters.read(queue).seen} == {ids["msg-1"], "raw-bad"}


def test_retry_of_a_message_that_fails_again_returns_it_once(parked) -> None:
    broker, _, recorder, ids = parked
    queue = broker.names.fetcher_processed
    letters = DeadLetters(broker)
    done = letters.retry(queue, lambda letter: letter.key == ids["msg-0"])
    assert len(done.acted) == 1
    _park(broker, Switch({}), recorder, 3)  # the switch is still on: it fails again
    again = {letter.key: letter for letter in letters.read(queue).seen}
    assert len(again) == 3
    assert again[ids["msg-0"]].replays == 1
    assert again[ids["msg-0"]].reason == "mailbox_not_found"


def test_retry_all_moves_every_message_once(parked) -> None:
    broker, _, _, ids = parked
    queue = broker.names.fetcher_processed
    done = DeadLetters(broker).retry(queue, lambda letter: True)
    assert len(done.acted) == 3
    assert broker.message_count(queue.dead) == 0
    back = drain(broker, queue.name)
    assert sorted(g.properties["message_id"] for g in back) == sorted(ids.values())
    assert all(g.headers[HEADER_ROUTING_KEY] for g in back)
    assert all("x-mailpipe-reason" not in g.headers for g in back)


def test_drop_removes_only_what_it_names(parked) -> None:
    broker, _, _, ids = parked
    queue = broker.names.fetcher_processed
    letters = DeadLetters(broker)
    order = [letter.key for letter in letters.read(queue).seen]
    done = letters.drop(queue, lambda letter: letter.key == ids["msg-1"])
    assert [letter.key for letter in done.acted] == [ids["msg-1"]]
    assert [letter.key for letter in letters.read(queue).seen] == [
        key for key in order if key != ids["msg-1"]
    ]
    assert broker.message_count(queue.name) == 0


def test_copies_of_one_message_go_back_once(
    broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dead_queue, "BATCH", 1)  # the copies are published apart
    queue = broker.names.fetcher_processed
    body = processed(7).to_json()
    for _ in range(2):  # what a crash between the dead-letter copy and its ack leaves
        _publish_to(broker, queue.dead, body, "same-id", {"x-mailpipe-reason": "permanent"})
    done = DeadLetters(broker).retry(queue, lambda letter: letter.key == "same-id")
    assert len(done.acted) == 2
    assert broker.message_count(queue.dead) == 0
    assert len(drain(broker, queue.name)) == 1


def test_a_message_the_broker_parked_names_its_reason(broker: Broker) -> None:
    """At x-delivery-limit the broker dead-letters by itself: no x-mailpipe-* headers."""
    queue = broker.names.fetcher_processed
    message_id = publish_processed(broker, 3)
    hand_back_head(broker, queue.name, DELIVERY_LIMIT + 1)
    assert wait_until(lambda: broker.message_count(queue.dead) == 1)
    (letter,) = DeadLetters(broker).read(queue).seen
    assert letter.key == message_id
    assert letter.reason == "delivery_limit"
    assert queue.name in letter.error and letter.attempts is None
    assert letter.dead_at is not None
    DeadLetters(broker).retry(queue, lambda _: True)
    (back,) = drain(broker, queue.name)
    assert back.headers[HEADER_ROUTING_KEY] == ROUTING_KEY
    assert not any(k.startswith(("x-death", "x-first-death")) for k in back.headers)


def test_the_consumer_counts_what_it_dead_letters(broker: Broker) -> None:
    queue = broker.names.fetcher_processed
    before = _dead_count(queue.name, "mailbox_not_found")
    switch = Switch({"msg-0": PermanentError("gone", code="mailbox_not_found")})
    publish_processed(broker, 0)
    _park(broker, switch, Recorder(fail=switch), 1)
    assert _dead_count(queue.name, "mailbox_not_found") == before + 1


def test_queue_names_and_missing_queues(amqp_url: str, namespace: str) -> None:
    with namespaced_broker(amqp_url, namespace) as broker:
        letters = DeadLetters(broker)
        assert letters.queues("sender") == [broker.names.sender]
        assert letters.queues(broker.names.sender.dead) == [broker.names.sender]
        with pytest.raises(ConfigError, match="no work queue 'nope'"):
            letters.queues("nope")
    with namespaced_broker(amqp_url, namespace + "-other") as other:
        other.delete()
        with pytest.raises(QueueMissing, match="has no queues"):
            DeadLetters(other).read(other.names.sender)
        assert DeadLetters(other).count(other.names.sender) is None
        other.declare()  # for the teardown


def test_memory_broker_is_refused_in_one_line() -> None:
    with pytest.raises(ConfigError, match="memory://") as caught:
        DeadLetters(Broker("memory://"))
    assert "\n" not in str(caught.value)


def _publish_to(broker: Broker, queue: str, body: bytes, message_id: str, headers: dict) -> None:
    conn = broker.connection()
    try:
        conn.connect()
        conn.Producer(auto_declare=False).publish(
            body,
            exchange="",
            routing_key=queue,
            content_type="application/json",
            content_encoding="utf-8",
            message_id=message_id,
            correlation_id="corr",
            headers=headers,
            type=json.loads(body)["schema"],
            delivery_mode=2,
        )
    finally:
        conn.release()
