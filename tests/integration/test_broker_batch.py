"""The batch consumer (``Broker.consume_batch``) over RabbitMQ and memory://: batches up to
``max_batch``, one result per item settled like the single-message loop, invalid items
dead-lettered on their own, a handler that raises fails the whole batch, stop drains the batch
in hand. Plus the pure batch helpers (window, take, result checks)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from structlog.testing import capture_logs

from libs.common.broker import Broker, Delivery
from libs.common.broker.batch import BatchSettings, HandlerResultError, Pending, call
from libs.common.broker.policy import HEADER_QUEUE, HEADER_REASON
from libs.common.contracts import ProcessedEmail
from libs.common.errors import ContractError, PermanentError, RetryableError
from tests.broker_helpers import (
    Got,
    drain,
    hand_back_head,
    namespaced_broker,
    publish_processed,
    publish_raw,
    wait_until,
)

Items = list[tuple[ProcessedEmail, Delivery]]


@pytest.fixture(params=["amqp", "memory"])
def broker(request: pytest.FixtureRequest, namespace: str) -> Iterator[Broker]:
    url = request.getfixturevalue("amqp_url") if request.param == "amqp" else "memory://"
    # prefetch below max_batch: consume_batch must raise it, or no batch could fill up
    with namespaced_broker(url, namespace, heartbeat_s=5, prefetch=2) as b:
        yield b


@dataclass
class BatchRecorder:
    """Records each batch; ``verdict`` decides each item's result (``None``: done)."""

    verdict: object = None
    batches: list[list[str]] = field(default_factory=list)
    attempts: dict[str, list[int]] = field(default_factory=dict)
    invalid: list[str] = field(default_factory=list)
    dead: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, items: Items) -> list[BaseException | None]:
        with self.lock:
            self.batches.append([m.message_id for m, _ in items])
            for m, d in items:
                self.attempts.setdefault(m.message_id, []).append(d.attempt)
        if callable(self.verdict):
            return self.verdict(items)
        return [None] * len(items)

    def on_invalid(self, body: bytes, delivery: Delivery, error: ContractError) -> None:
        with self.lock:
            self.invalid.append(delivery.correlation_id)

    def on_dead(self, message: ProcessedEmail, delivery: Delivery, outcome: object) -> None:
        with self.lock:
            self.dead.append((message.message_id, getattr(outcome, "reason", "")))

    def seen(self) -> set[str]:
        with self.lock:
            return {g for batch in self.batches for g in batch}


@contextmanager
def batch_consuming(
    broker: Broker,
    recorder: BatchRecorder,
    *,
    max_batch: int = 20,
    max_wait_s: float = 0.5,
    workers: int = 1,
) -> Iterator[threading.Event]:
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            broker.consume_batch(
                broker.names.fetcher_processed,
                ProcessedEmail,
                recorder,
                stop=stop,
                max_batch=max_batch,
                max_wait_s=max_wait_s,
                workers=workers,
                on_invalid=recorder.on_invalid,
                on_dead=recorder.on_dead,
            )
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, name="batch-consumer", daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive(), "the batch consumer did not stop"
    assert not errors, f"the batch consumer raised {errors!r}"


def _dead_letters(broker: Broker, count: int) -> list[Got]:
    got: list[Got] = []
    queue = broker.names.fetcher_processed.dead

    def arrived() -> bool:
        got.extend(drain(broker, queue))
        return len(got) >= count

    assert wait_until(arrived)
    return got


def test_messages_arrive_in_batches_of_at_most_max_batch_each_once(broker: Broker) -> None:
    for n in range(45):
        publish_processed(broker, n)
    recorder = BatchRecorder()
    with batch_consuming(broker, recorder, max_batch=20):
        assert wait_until(lambda: len(recorder.seen()) == 45)
    sizes = [len(b) for b in recorder.batches]
    assert sum(sizes) == 45, "every message exactly once"
    assert max(sizes) == 20 and all(1 <= s <= 20 for s in sizes)
    assert broker.message_count(broker.names.fetcher_processed.name) == 0
    assert broker.message_count(broker.names.fetcher_processed.dead) == 0


def test_each_item_is_settled_by_its_own_result(broker: Broker) -> None:
    """In one batch: done, permanent (dead-lettered with on_dead), retryable (retried once)."""
    retried_once: set[str] = set()

    def verdict(items: Items) -> list[BaseException | None]:
        out: list[BaseException | None] = []
        for message, _ in items:
            if message.message_id == "msg-1":
                out.append(PermanentError("bad mail", code="bad_mail", hint="look at it"))
            elif message.message_id == "msg-2" and "msg-2" not in retried_once:
                retried_once.add("msg-2")
                out.append(RetryableError("throttled", code="throttled"))
            else:
                out.append(None)
        return out

    for n in range(4):
        publish_processed(broker, n)
    recorder = BatchRecorder(verdict=verdict)
    with batch_consuming(broker, recorder):
        (dead,) = _dead_letters(broker, 1)
        assert wait_until(lambda: len(recorder.attempts.get("msg-2", [])) == 2)
    assert ProcessedEmail.from_json(dead.body).message_id == "msg-1"
    assert dead.headers[HEADER_REASON] == "bad_mail"
    assert dead.headers[HEADER_QUEUE] == broker.names.fetcher_processed.name
    assert recorder.dead == [("msg-1", "bad_mail")]
    assert recorder.attempts == {"msg-0": [1], "msg-1": [1], "msg-2": [1, 2], "msg-3": [1]}
    assert broker.message_count(broker.names.fetcher_processed.name) == 0


def test_a_handler_that_raises_fails_every_item_of_the_batch(broker: Broker) -> None:
    calls: list[int] = []

    def verdict(items: Items) -> list[BaseException | None]:
        calls.append(len(items))
        if len(calls) == 1:
            raise RuntimeError("the whole batch broke")
        return [None] * len(items)

    for n in range(3):
        publish_processed(broker, n)
    recorder = BatchRecorder(verdict=verdict)
    with batch_consuming(broker, recorder, max_batch=3, max_wait_s=2.0):
        assert wait_until(
            lambda: sorted(len(a) for a in dict(recorder.attempts).values()) == [2, 2, 2]
        )
    assert calls[0] == 3, "the first call had all three"
    assert recorder.attempts == {f"msg-{n}": [1, 2] for n in range(3)}
    assert recorder.dead == []


def test_invalid_items_are_dead_lettered_alone_and_never_reach_the_handler(
    broker: Broker,
) -> None:
    publish_processed(broker, 0)
    publish_raw(broker, broker.names.fetcher_processed, b"{not json", "bad-1")
    publish_raw(broker, broker.names.fetcher_processed, b'{"schema": "nope"}', "bad-2")
    publish_processed(broker, 1)
    recorder = BatchRecorder()
    with batch_consuming(broker, recorder, max_wait_s=1.0):
        dead = _dead_letters(broker, 2)
        assert wait_until(lambda: recorder.seen() == {"msg-0", "msg-1"})
    assert sorted(recorder.invalid) == ["bad-1", "bad-2"]
    assert {d.headers[HEADER_REASON] for d in dead} == {"contract_violation"}
    assert sorted(d.properties["correlation_id"] for d in dead) == ["bad-1", "bad-2"]


def test_stop_settles_the_batch_in_hand_and_leaves_the_rest_queued(broker: Broker) -> None:
    started, release = threading.Event(), threading.Event()

    def verdict(items: Items) -> list[BaseException | None]:
        started.set()
        release.wait(30)
        return [None] * len(items)

    for n in range(10):
        publish_processed(broker, n)
    recorder = BatchRecorder(verdict=verdict)
    with batch_consuming(broker, recorder, max_batch=4, max_wait_s=1.0) as stop:
        assert started.wait(30)
        stop.set()
        release.set()
    (first,) = recorder.batches
    assert len(first) == 4
    # the batch in hand was acked; everything else went back to the queue, nothing lost
    rest = {ProcessedEmail.from_json(m.body).message_id for m in drain(broker, _queue(broker))}
    assert rest == {f"msg-{n}" for n in range(10)} - set(first)


def test_a_batch_handler_slower_than_the_heartbeat_keeps_its_connection(
    amqp_url: str, namespace: str
) -> None:
    def slow(items: Items) -> list[BaseException | None]:
        time.sleep(5)  # 2.5 heartbeat intervals: only the connection thread keeps it alive
        return [None] * len(items)

    with namespaced_broker(amqp_url, namespace, heartbeat_s=2, max_backoff_s=2) as broker:
        for n in range(6):
            publish_processed(broker, n)
        recorder = BatchRecorder(verdict=slow)
        with capture_logs() as logs, batch_consuming(broker, recorder, max_batch=3):
            assert wait_until(lambda: len(recorder.seen()) == 6)
            assert wait_until(lambda: broker.message_count(_queue(broker)) == 0)
        assert [e for e in logs if e["event"] == "consumer lost the broker; reconnecting"] == []
        assert recorder.attempts == {f"msg-{n}": [1] for n in range(6)}, "each once"


def test_two_workers_handle_two_batches_at_once_each_message_once(broker: Broker) -> None:
    both = threading.Barrier(2, timeout=30)
    overlapped: list[bool] = []

    def verdict(items: Items) -> list[BaseException | None]:
        if not overlapped:
            try:
                both.wait()  # returns only when a second batch is in hand at the same time
                overlapped.append(True)
            except threading.BrokenBarrierError:
                overlapped.append(False)
        return [None] * len(items)

    for n in range(50):
        publish_processed(broker, n)
    recorder = BatchRecorder(verdict=verdict)
    with batch_consuming(broker, recorder, max_batch=5, max_wait_s=0.0, workers=2):
        assert wait_until(lambda: len(recorder.seen()) == 50)
        assert wait_until(lambda: broker.message_count(_queue(broker)) == 0)
    assert overlapped[:2] == [True, True], "two batches were in the handler together"
    assert recorder.attempts == {f"msg-{n}": [1] for n in range(50)}, "each once"
    assert broker.message_count(broker.names.fetcher_processed.dead) == 0


def test_stop_with_two_workers_settles_both_batches_in_hand(broker: Broker) -> None:
    started, release = threading.Barrier(3, timeout=30), threading.Event()

    def verdict(items: Items) -> list[BaseException | None]:
        started.wait()
        release.wait(30)
        return [None] * len(items)

    for n in range(12):
        publish_processed(broker, n)
    recorder = BatchRecorder(verdict=verdict)
    with batch_consuming(broker, recorder, max_batch=3, max_wait_s=1.0, workers=2) as stop:
        started.wait()
        stop.set()
        release.set()
    assert len(recorder.batches) == 2
    handled = {g for batch in recorder.batches for g in batch}
    rest = {ProcessedEmail.from_json(m.body).message_id for m in drain(broker, _queue(broker))}
    assert len(handled) == 6 and rest == {f"msg-{n}" for n in range(12)} - handled


def test_a_message_handed_back_before_is_handled_alone(amqp_url: str, namespace: str) -> None:
    """A suspect (it was unacked when a consumer died, so the broker handed it back) runs in
    a batch of its own, with nothing beside it, so the others settle whatever it does."""
    with namespaced_broker(amqp_url, namespace, heartbeat_s=5, prefetch=16) as broker:
        publish_processed(broker, 1)
        hand_back_head(broker, _queue(broker), 1)
        for n in (0, 2, 3):
            publish_processed(broker, n)
        recorder = BatchRecorder()
        with batch_consuming(broker, recorder, max_batch=10, max_wait_s=0.5, workers=2):
            assert wait_until(lambda: len(recorder.seen()) == 4)
        assert recorder.batches[0] == ["msg-1"], "the suspect first (returns go first), alone"
        assert sorted(g for b in recorder.batches[1:] for g in b) == ["msg-0", "msg-2", "msg-3"]
        assert all("msg-1" not in b for b in recorder.batches[1:])


def test_a_session_takes_one_message_until_it_sees_one_never_handed_back(
    amqp_url: str, namespace: str
) -> None:
    """After a crash the message at the head of the queue may be the one that crashed: the
    new session takes one message at a time while the head is a suspect, so that the mail
    behind it is not handed back with it again."""
    started, release = threading.Event(), threading.Event()

    def verdict(items: Items) -> list[BaseException | None]:
        if items[0][0].message_id == "msg-0":
            started.set()
            release.wait(30)
        return [None] * len(items)

    with namespaced_broker(amqp_url, namespace, heartbeat_s=5, prefetch=16) as broker:
        publish_processed(broker, 0)
        hand_back_head(broker, _queue(broker), 3)
        for n in range(1, 6):
            publish_processed(broker, n)
        recorder = BatchRecorder(verdict=verdict)
        with batch_consuming(broker, recorder, max_batch=10, max_wait_s=0.0, workers=2):
            assert started.wait(30)
            time.sleep(0.5)
            assert broker.message_count(_queue(broker)) == 5, "only the suspect was delivered"
            release.set()
            assert wait_until(lambda: len(recorder.seen()) == 6)
        assert recorder.batches[0] == ["msg-0"]
        assert sorted(g for b in recorder.batches[1:] for g in b) == [
            f"msg-{n}" for n in range(1, 6)
        ]


def _queue(broker: Broker) -> str:
    return broker.names.fetcher_processed.name


# -- the pure helpers -------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_pending_is_ready_when_full_or_when_the_oldest_waited_long_enough() -> None:
    clock = Clock()
    pending: Pending[str] = Pending(BatchSettings(max_batch=3, max_wait_s=0.5), clock)
    assert not pending.ready() and pending.wait_left_s() is None
    pending.append("a")
    clock.now += 0.2
    pending.append("b")
    assert not pending.ready()
    assert pending.wait_left_s() == pytest.approx(0.3)
    clock.now += 0.3
    assert pending.ready()
    pending.append("c")
    pending.append("d")
    assert pending.take() == ["a", "b", "c"]
    assert len(pending) == 1 and pending.clear() == ["d"] and len(pending) == 0


def test_call_checks_the_handlers_answer() -> None:
    items = [(object(), Delivery("m1", "c1")), (object(), Delivery("m2", "c2"))]
    boom = ValueError("boom")

    def raises(_: list) -> list:
        raise boom

    assert call(raises, items) == [boom, boom]
    short = call(lambda _: [None], items)
    assert all(isinstance(r, HandlerResultError) for r in short) and len(short) == 2
    assert call(lambda _: [None, boom], items) == [None, boom]
    assert call(raises, []) == []
    with pytest.raises(ValueError):
        BatchSettings(max_batch=0)
