"""The broker's plain decisions: classification, headers, names, queue arguments, redaction."""

from __future__ import annotations

import pytest

from libs.common.broker import topology
from libs.common.broker.names import DELIVERY_LIMIT, RETRY_DELAYS_S, Names
from libs.common.broker.policy import (
    HEADER_ATTEMPT,
    HEADER_DELIVERY_COUNT,
    HEADER_HINT,
    HEADER_QUEUE,
    HEADER_REASON,
    HEADER_ROUTING_KEY,
    RETURNS_BEFORE_GIVING_UP,
    Action,
    Delivery,
    attempt_of,
    backoff_s,
    crash_loop,
    dead_letter_headers,
    decide,
    hand_back_headers,
    retry_headers,
    returns_of,
    summary,
)
from libs.common.broker.wire import attempt_read, first_routing_key
from libs.common.errors import (
    BrokerError,
    ContractError,
    HandBack,
    PermanentError,
    RetryableError,
)
from libs.common.redact import redact_url


def _raised(exc: Exception) -> Exception:
    try:
        raise exc
    except Exception as caught:
        return caught


def test_success_acks() -> None:
    assert decide(None, attempt=1, tiers=2).action is Action.ACK


@pytest.mark.parametrize(
    "exc", [RetryableError("x"), BrokerError("down"), KeyError("bug"), TimeoutError()]
)
def test_retryable_and_unexpected_errors_walk_the_tiers(exc: Exception) -> None:
    exc = _raised(exc)
    assert [decide(exc, attempt=a, tiers=2).tier for a in (1, 2)] == [0, 1]
    assert decide(exc, attempt=1, tiers=2).action is Action.RETRY
    last = decide(exc, attempt=3, tiers=2)
    assert last.action is Action.DEAD
    assert "gave up after 3 attempts" in last.hint


@pytest.mark.parametrize("exc", [PermanentError("no"), ContractError("bad field")])
def test_permanent_errors_dead_letter_at_once(exc: PermanentError) -> None:
    outcome = decide(_raised(exc), attempt=1, tiers=5)
    assert outcome.action is Action.DEAD
    assert outcome.reason == exc.code


def test_a_message_handed_back_is_requeued_untried_on_any_attempt() -> None:
    for attempt in (1, len(RETRY_DELAYS_S) + 1):
        outcome = decide(HandBack("stopping"), attempt, len(RETRY_DELAYS_S))
        assert outcome.action is Action.REQUEUE and outcome.tier is None
        assert outcome.reason == "handed_back"


def test_reason_error_and_traceback() -> None:
    outcome = decide(_raised(RetryableError("throttled", code="throttled")), attempt=9, tiers=2)
    assert (outcome.reason, outcome.error) == ("throttled", "throttled")
    unexpected = decide(_raised(ValueError("x" * 5000)), attempt=1, tiers=0)
    assert unexpected.reason == "unexpected_error"
    assert unexpected.error.startswith("ValueError: xxx")
    assert len(unexpected.error) <= 500
    assert "test_broker_policy.py" in unexpected.traceback
    assert len(unexpected.traceback) <= 1500


def test_summary_names_the_innermost_frame_first() -> None:
    def inner() -> None:
        raise RuntimeError("boom")

    try:
        inner()
    except RuntimeError as exc:
        text = summary(exc)
    assert text.startswith("RuntimeError: boom <- test_broker_policy.py:")
    assert "in inner" in text.split(" <- ")[1]


@pytest.mark.parametrize(
    ("headers", "attempt"),
    [({}, 1), ({HEADER_ATTEMPT: 1}, 2), ({HEADER_ATTEMPT: "2"}, 3), ({HEADER_ATTEMPT: "x"}, 1)],
)
def test_attempt_of(headers: dict[str, object], attempt: int) -> None:
    assert attempt_of(headers) == attempt


def test_headers_of_republished_copies() -> None:
    delivery = Delivery("m", "c", attempt=2, routing_key="email.a@b.c", queue="ns.ticketer")
    original = {"x-delivery-count": 3, "x-custom": "kept", HEADER_ATTEMPT: 1}
    retry = retry_headers(original, delivery)
    assert retry == {"x-custom": "kept", HEADER_ATTEMPT: 2, HEADER_ROUTING_KEY: "email.a@b.c"}
    outcome = decide(_raised(PermanentError("no", hint="do this")), attempt=2, tiers=5)
    dead = dead_letter_headers(original, delivery, outcome)
    assert dead[HEADER_REASON] == "permanent"
    assert dead[HEADER_QUEUE] == "ns.ticketer"
    assert dead[HEADER_HINT] == "do this"
    assert "x-delivery-count" not in dead
    # the first routing key survives the trip through the default exchange (the delivery read
    # it from the header), and a header the publisher forged does not survive its first copy
    via_default = Delivery("m", "c", attempt=3, routing_key="first")
    assert retry_headers({HEADER_ROUTING_KEY: "first"}, via_default)[HEADER_ROUTING_KEY] == "first"
    assert retry_headers({HEADER_ROUTING_KEY: "forged"}, delivery)[HEADER_ROUTING_KEY] == (
        "email.a@b.c"
    )


def test_the_routing_key_of_a_delivery_is_the_one_it_was_published_with() -> None:
    forged = {HEADER_ROUTING_KEY: "outbound.other@contoso.com"}
    published = {"exchange": "ns.outbound", "routing_key": "outbound.support@contoso.com"}
    assert first_routing_key(forged, published) == "outbound.support@contoso.com"
    # Back through the default exchange (a retry tier): the header our first copy wrote.
    retried = {"exchange": "", "routing_key": "ns.sender"}
    assert first_routing_key(forged, retried) == "outbound.other@contoso.com"
    assert first_routing_key({}, retried) == "ns.sender"


def test_an_attempt_count_is_believed_only_on_our_own_copies() -> None:
    """A publisher could otherwise make a job skip its retries, or be given up at once."""
    forged = {HEADER_ATTEMPT: 99}
    published = {"exchange": "ns.outbound", "routing_key": "outbound.support@contoso.com"}
    assert attempt_read(forged, published) == 1
    # Back through the default exchange (a retry tier, a replay): the count our copy wrote.
    retried = {"exchange": "", "routing_key": "ns.sender"}
    assert attempt_read(forged, retried) == 100
    assert attempt_read({}, retried) == 1


def test_a_message_handed_back_keeps_the_count_and_key_its_delivery_read() -> None:
    forged = {HEADER_ATTEMPT: 99, HEADER_ROUTING_KEY: "outbound.other@contoso.com"}
    first = Delivery("m", "c", forged, attempt=1, routing_key="outbound.support@contoso.com")
    assert hand_back_headers(forged, first) == {
        HEADER_ATTEMPT: 0,
        HEADER_ROUTING_KEY: "outbound.support@contoso.com",
    }
    assert attempt_of(hand_back_headers(forged, first)) == 1


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff_s(n, cap_s=5) for n in range(1, 7)] == [0.5, 1, 2, 4, 5, 5]


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("amqp://user:s3cret@host:5672/vh", "amqp://user:***@host:5672/vh"),
        ("amqps://u:p%40ss@h//", "amqps://u:***@h//"),
        ("memory://", "memory://"),
        ("amqp://host", "amqp://host"),
    ],
)
def test_redact_url(url: str, safe: str) -> None:
    assert redact_url(url) == safe


def test_default_names_keep_their_tier_names() -> None:
    queue = Names("mp").ticketer
    assert queue.retries == tuple(f"mp.ticketer.retry.{d}s" for d in RETRY_DELAYS_S)
    assert queue.dead == "mp.ticketer.dead"


def test_short_delays_name_their_tiers() -> None:
    queue = Names("t", retry_delays_s=(0.2, 1.5, 3)).sender
    assert queue.retries == ("t.sender.retry.0.2s", "t.sender.retry.1.5s", "t.sender.retry.3s")
    with pytest.raises(ValueError):
        Names("t", retry_delays_s=())


def test_queue_arguments() -> None:
    queue = Names("t", retry_delays_s=(0.2, 0.4)).ticketer
    work = topology.work_queue_arguments(queue)
    assert work == {
        "x-queue-type": "quorum",
        "x-delivery-limit": DELIVERY_LIMIT,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "t.ticketer.dead",
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }
    tier = topology.retry_tier_arguments(queue, 1)
    assert tier["x-message-ttl"] == 400
    assert tier["x-dead-letter-routing-key"] == "t.ticketer"
    assert tier["x-dead-letter-strategy"] == "at-least-once"
    assert topology.dead_queue_arguments() == {"x-queue-type": "quorum"}
    every = topology.queue_names(Names("t", retry_delays_s=(0.2, 0.4)))
    assert (
        len(every) == len(set(every)) == 5 * 4
    )  # five work queues, each with its dead-letter queue and two tiers


def test_dead_letter_texts_carry_no_credentials() -> None:
    from libs.common.broker.policy import error_text, summary

    try:
        raise ConnectionError("cannot reach amqp://guest:hunter2@rabbit:5672//")
    except ConnectionError as exc:
        assert "hunter2" not in error_text(exc)
        assert "hunter2" not in summary(exc)
        assert "amqp://guest:***@rabbit:5672//" in error_text(exc)


def test_a_message_is_given_up_after_enough_returns() -> None:
    def delivery(count: object, redelivered: bool = True) -> Delivery:
        headers = {HEADER_DELIVERY_COUNT: count}
        return Delivery(
            message_id="m", correlation_id="c", headers=headers, redelivered=redelivered
        )

    assert returns_of({}) == 0 and returns_of({HEADER_DELIVERY_COUNT: "junk"}) == 0
    assert crash_loop(delivery(RETURNS_BEFORE_GIVING_UP - 1)) is None
    given_up = crash_loop(delivery(RETURNS_BEFORE_GIVING_UP))
    assert given_up is not None and given_up.action is Action.DEAD
    assert given_up.reason == "delivery_limit" and given_up.hint
    assert RETURNS_BEFORE_GIVING_UP < DELIVERY_LIMIT, "before the broker parks it unseen"
    # On a first delivery the count can only be the publisher's: no return at all.
    assert crash_loop(delivery(RETURNS_BEFORE_GIVING_UP, redelivered=False)) is None
