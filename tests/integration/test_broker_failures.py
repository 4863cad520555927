"""Failing handlers and bad messages: retry tiers, then the dead-letter queue with the reason;
permanent errors, bad JSON and contract violations dead-letter at once; the loop goes on."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from libs.common.broker import Broker, Delivery
from libs.common.broker.policy import (
    HEADER_ATTEMPT,
    HEADER_DELIVERY_COUNT,
    HEADER_ERROR,
    HEADER_QUEUE,
    HEADER_REASON,
    HEADER_ROUTING_KEY,
    HEADER_TRACEBACK,
    RETURNS_BEFORE_GIVING_UP,
)
from libs.common.contracts import ProcessedEmail
from libs.common.errors import PermanentError, RetryableError
from tests.broker_helpers import (
    TEST_DELAYS_S,
    Got,
    Recorder,
    consuming,
    drain,
    hand_back_head,
    namespaced_broker,
    publish_processed,
    publish_raw,
    wait_until,
)


@pytest.fixture(params=["amqp", "memory"])
def broker(request: pytest.FixtureRequest, namespace: str) -> Iterator[Broker]:
    url = request.getfixturevalue("amqp_url") if request.param == "amqp" else "memory://"
    with namespaced_broker(url, namespace, heartbeat_s=5, prefetch=5) as b:
        yield b


def _dead(broker: Broker, count: int) -> list[Got]:
    queue = broker.names.fetcher_processed
    got: list[Got] = []

    def arrived() -> bool:
        got.extend(drain(broker, queue.dead))
        return len(got) >= count

    assert wait_until(arrived)
    return got


def _fail_for(message_id: str, exc: Exception):
    def fail(message: ProcessedEmail, delivery: Delivery) -> None:
        if message.message_id == message_id:
            raise exc

    return fail


def test_retryable_error_walks_the_tiers_then_dead_letters(broker: Broker) -> None:
    queue = broker.names.fetcher_processed
    recorder = Recorder(
        fail=_fail_for("msg-0", RetryableError("graph throttled", code="throttled"))
    )
    message_id = publish_processed(broker, 0)
    with consuming(broker, queue, recorder):
        (dead,) = _dead(broker, 1)
        publish_processed(broker, 1)  # the loop still consumes after giving up on msg-0
        assert wait_until(lambda: "msg-1" in recorder.ids())
    attempts = [d for m, d in recorder.seen if m.message_id == "msg-0"]
    # first try + one try per tier, in order, same message id throughout
    assert [d.attempt for d in attempts] == [1, 2, 3]
    assert len(TEST_DELAYS_S) == 2
    assert {d.message_id for d in attempts} == {message_id}
    assert {d.correlation_id for d in attempts} == {"corr-0"}
    assert {d.routing_key for d in attempts} == {"processed.help@example.com"}
    assert dead.properties["message_id"] == message_id
    assert dead.headers[HEADER_REASON] == "throttled"
    assert dead.headers[HEADER_ERROR] == "graph throttled"
    assert dead.headers[HEADER_ATTEMPT] == 3
    assert dead.headers[HEADER_QUEUE] == queue.name
    assert dead.headers[HEADER_ROUTING_KEY] == "processed.help@example.com"
    assert "RetryableError" in dead.headers[HEADER_TRACEBACK]
    assert ProcessedEmail.from_json(dead.body).message_id == "msg-0"
    assert broker.message_count(queue.name) == 0
    for tier in queue.retries:
        assert broker.message_count(tier) == 0


def test_unexpected_exception_is_retried_like_a_retryable_one(broker: Broker) -> None:
    queue = broker.names.fetcher_processed
    recorder = Recorder(fail=_fail_for("msg-0", KeyError("bug")))
    publish_processed(broker, 0)
    with consuming(broker, queue, recorder):
        (dead,) = _dead(broker, 1)
    assert [d.attempt for _, d in recorder.seen] == [1, 2, 3]
    assert dead.headers[HEADER_REASON] == "unexpected_error"
    assert "KeyError" in dead.headers[HEADER_ERROR]


def test_retry_then_success_acks(broker: Broker) -> None:
    queue = broker.names.fetcher_processed

    def fail_first(message: ProcessedEmail, delivery: Delivery) -> None:
        if delivery.attempt == 1:
            raise RetryableError("not yet")

    recorder = Recorder(fail=fail_first)
    publish_processed(broker, 0)
    with consuming(broker, queue, recorder):
        assert wait_until(lambda: len(recorder.seen) >= 2)
    assert [d.attempt for _, d in recorder.seen] == [1, 2]
    assert drain(broker, queue.dead) == []
    assert broker.message_count(queue.name) == 0


def test_permanent_error_dead_letters_at_once(broker: Broker) -> None:
    queue = broker.names.fetcher_processed
    error = PermanentError("mailbox gone", code="mailbox_not_found", hint="fix the config")
    recorder = Recorder(fail=_fail_for("msg-0", error))
    publish_processed(broker, 0)
    publish_processed(broker, 1)
    with consuming(broker, queue, recorder):
        (dead,) = _dead(broker, 1)
        assert wait_until(lambda: "msg-1" in recorder.ids())
    assert recorder.ids().count("msg-0") == 1
    assert dead.headers[HEADER_REASON] == "mailbox_not_found"
    assert dead.headers[HEADER_ATTEMPT] == 1
    assert dead.headers["x-mailpipe-hint"] == "fix the config"


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (b"{not json", "invalid JSON"),
        (json.dumps({"schema": "mailpipe.processed_email.v1", "mailbox": "x"}).encode(), "fields"),
    ],
)
def test_invalid_messages_dead_letter_at_once(broker: Broker, body: bytes, what: str) -> None:
    queue = broker.names.fetcher_processed
    recorder = Recorder()
    publish_raw(broker, queue, body, correlation_id="bad")
    publish_processed(broker, 1)
    with consuming(broker, queue, recorder):
        (dead,) = _dead(broker, 1)
        assert wait_until(lambda: "msg-1" in recorder.ids())
    assert recorder.ids() == ["msg-1"]  # the handler never saw the bad one
    assert [(b, d.correlation_id, code) for b, d, code in recorder.invalid] == [
        (body, "bad", "contract_violation")
    ]
    assert dead.body == body
    assert dead.headers[HEADER_REASON] == "contract_violation"
    assert dead.headers[HEADER_ATTEMPT] == 1
    assert "mailpipe.processed_email.v" in dead.headers[HEADER_ERROR]  # the version it named


def test_invalid_message_without_hook_dead_letters(broker: Broker) -> None:
    queue = broker.names.fetcher_processed
    recorder = Recorder()
    publish_raw(broker, queue, b"\xff\xfe", correlation_id="bad")
    with consuming(broker, queue, recorder, with_invalid_hook=False):
        (dead,) = _dead(broker, 1)
    assert dead.body == b"\xff\xfe"
    assert recorder.seen == []


def test_many_failures_interleaved_with_good_messages(broker: Broker) -> None:
    """Every kind of failure in one run: each good message handled once, each bad one parked."""
    queue = broker.names.fetcher_processed
    failures = {
        "msg-1": RetryableError("later"),
        "msg-3": PermanentError("never"),
        "msg-5": ValueError("bug"),
    }

    def fail(message: ProcessedEmail, delivery: Delivery) -> None:
        if message.message_id in failures:
            raise failures[message.message_id]

    recorder = Recorder(fail=fail)
    for n in range(8):
        publish_processed(broker, n)
    publish_raw(broker, queue, b"[]", correlation_id="bad")
    with consuming(broker, queue, recorder):
        dead = _dead(broker, 4)
    good = [i for i in recorder.ids() if i not in failures]
    assert sorted(good) == sorted(f"msg-{n}" for n in (0, 2, 4, 6, 7))
    reasons = sorted(d.headers[HEADER_REASON] for d in dead)
    assert reasons == sorted(["retryable", "permanent", "unexpected_error", "contract_violation"])
    assert broker.message_count(queue.name) == 0


def test_dead_hook_sees_the_message_before_it_is_dead_lettered(broker: Broker) -> None:
    error = PermanentError("cannot parse", code="bad_mime", hint="look at the raw mail")
    recorder = Recorder(fail=_fail_for("msg-0", error))
    publish_processed(broker, 0)
    publish_processed(broker, 1)
    with consuming(broker, broker.names.fetcher_processed, recorder):
        (dead,) = _dead(broker, 1)
        assert wait_until(lambda: "msg-1" in recorder.ids())
    assert recorder.dead == [("msg-0", "bad_mime")]
    assert dead.headers[HEADER_REASON] == "bad_mime"


def test_failing_dead_hook_keeps_the_message_in_retry_until_the_hook_works(
    broker: Broker,
) -> None:
    queue = broker.names.fetcher_processed
    recorder = Recorder(fail=_fail_for("msg-0", PermanentError("broken", code="bad_mime")))
    recorder.dead_hook_error = RetryableError("database down", code="store_unavailable")
    publish_processed(broker, 0)
    with consuming(broker, queue, recorder):
        # The hook failed, so the message went to the last tier instead of the DLQ, and comes
        # back; once the hook works it is handed to the hook and dead-lettered exactly once.
        assert wait_until(lambda: recorder.ids().count("msg-0") >= 2)
        recorder.dead_hook_error = None
        (dead,) = _dead(broker, 1)
    assert recorder.dead == [("msg-0", "bad_mime")]
    assert dead.headers[HEADER_REASON] == "bad_mime"
    assert drain(broker, queue.dead) == []


def test_a_message_returned_again_and_again_is_given_up_before_the_broker_parks_it(
    amqp_url: str, namespace: str
) -> None:
    """A message whose handling ends the process comes back unsettled each time (the broker
    counts the returns in ``x-delivery-count``). Before the broker's ``x-delivery-limit``
    would park it without ``on_dead``, the loop stops running the handler and gives it up:
    ``on_dead`` first, then the dead-letter queue, with reason ``delivery_limit``."""
    with namespaced_broker(amqp_url, namespace, heartbeat_s=5) as broker:
        queue = broker.names.fetcher_processed
        publish_processed(broker, 0)
        hand_back_head(broker, queue.name, RETURNS_BEFORE_GIVING_UP)
        publish_processed(broker, 1)
        recorder = Recorder()
        with consuming(broker, queue, recorder):
            (dead,) = _dead(broker, 1)
            assert wait_until(lambda: "msg-1" in recorder.ids())
        assert recorder.ids() == ["msg-1"], "the handler is not run on the given-up message"
        assert recorder.dead == [("msg-0", "delivery_limit")]
        assert dead.headers[HEADER_REASON] == "delivery_limit"
        assert broker.message_count(queue.name) == 0


def test_a_count_set_by_the_publisher_is_not_a_return(broker: Broker) -> None:
    """``x-delivery-count`` on a first delivery can only be the publisher's: it counts for
    nothing, so no outside system can have its message given up unrun."""
    recorder = Recorder()
    publish_processed(broker, 0, headers={HEADER_DELIVERY_COUNT: RETURNS_BEFORE_GIVING_UP})
    with consuming(broker, broker.names.fetcher_processed, recorder):
        assert wait_until(lambda: recorder.ids() == ["msg-0"])
    assert recorder.dead == []
