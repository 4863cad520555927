"""What happens to a message after its handler ran: plain functions over plain data.

No broker I/O here; the consumer loop asks :func:`decide` and carries the answer out.

Classification (see docs/broker.md):

* handler returned → ack;
* :class:`~libs.common.errors.RetryableError` (``BrokerError`` included) → next retry tier, or
  the dead-letter queue once the tiers are used up;
* :class:`~libs.common.errors.PermanentError` (``ContractError`` included) → dead-letter queue
  at once;
* :class:`~libs.common.errors.HandBack` → given back to the work queue as it is (requeued);
* any other exception → treated as retryable. An unexpected exception is a bug or a transient
  fault we did not foresee; retrying a few times and then parking the message in the
  dead-letter queue loses nothing, while dead-lettering at once would turn every passing glitch
  into operator work.
"""

from __future__ import annotations

import enum
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from libs.common.broker.names import DELIVERY_LIMIT
from libs.common.errors import HandBack, MailpipeError
from libs.common.redact import redact_url

HEADER_ATTEMPT = "x-mailpipe-attempt"
HEADER_REASON = "x-mailpipe-reason"
HEADER_ERROR = "x-mailpipe-error"
HEADER_HINT = "x-mailpipe-hint"
HEADER_TRACEBACK = "x-mailpipe-traceback"
HEADER_QUEUE = "x-mailpipe-queue"
#: The first routing key of a message: retry tiers route back through the default exchange,
#: which replaces it, so we keep it for the handler and for whoever reads the dead letters.
HEADER_ROUTING_KEY = "x-mailpipe-routing-key"
#: When the consumer loop dead-lettered the message (ISO 8601, UTC).
HEADER_DEAD_AT = "x-mailpipe-dead-at"

#: Set by the broker on a quorum queue's redeliveries: how often the message was handed back.
HEADER_DELIVERY_COUNT = "x-delivery-count"

#: Headers the broker sets on each delivery; copying them onto a republished message would lie.
_BROKER_HEADERS = frozenset({HEADER_DELIVERY_COUNT})

#: Returns after which the consumer loop stops running a message's handler and gives it up
#: (``on_dead`` first), before the broker would park it at ``x-delivery-limit`` unseen.
RETURNS_BEFORE_GIVING_UP = DELIVERY_LIMIT - 2
REASON_DELIVERY_LIMIT = "delivery_limit"

MAX_ERROR_CHARS = 500
MAX_TRACEBACK_CHARS = 1500
TRACEBACK_FRAMES = 4
REASON_UNEXPECTED = "unexpected_error"


@dataclass(frozen=True)
class Delivery:
    """What a handler learns about the message besides its payload."""

    message_id: str
    correlation_id: str
    headers: Mapping[str, Any] = field(default_factory=dict)
    #: 1 on the first try, 2 after one retry tier, …; a redelivery after a lost connection
    #: keeps the number (it is not a failed attempt).
    attempt: int = 1
    #: The broker delivered this message before (a consumer went away before its ack).
    redelivered: bool = False
    routing_key: str = ""
    queue: str = ""
    #: The AMQP ``content_type`` and ``content_encoding`` the message was published with.
    content_type: str = ""
    content_encoding: str = ""


class Action(enum.Enum):
    ACK = "ack"
    RETRY = "retry"
    DEAD = "dead"
    #: Back to the work queue untried (the handler raised ``HandBack``).
    REQUEUE = "requeue"


@dataclass(frozen=True)
class Outcome:
    action: Action
    #: Retry tier (0-based) for ``RETRY``.
    tier: int | None = None
    reason: str = ""
    error: str = ""
    hint: str = ""
    traceback: str = ""


ACKED = Outcome(Action.ACK)


def returns_of(headers: Mapping[str, Any]) -> int:
    """How often the broker handed this message back unsettled (0 on a first delivery)."""
    try:
        return max(int(headers.get(HEADER_DELIVERY_COUNT, 0)), 0)
    except (TypeError, ValueError):
        return 0


def returns(headers: Mapping[str, Any], redelivered: bool) -> int:
    """Returns the broker counted. On a first delivery the header can only be the
    publisher's own (RabbitMQ passes it through), and counts for nothing."""
    return returns_of(headers) if redelivered else 0


def crash_loop(delivery: Delivery) -> Outcome | None:
    """A message handed back again and again without a verdict (its handling ends the
    process, or every stop caught it): give it up now, so that the service's ``on_dead``
    sees it; ``None`` while it has returns left."""
    returned = returns(delivery.headers, delivery.redelivered)
    if returned < RETURNS_BEFORE_GIVING_UP:
        return None
    return Outcome(
        Action.DEAD,
        reason=REASON_DELIVERY_LIMIT,
        error=f"handed back {returned} times without being settled; its handler was not run "
        "again (it may end the process each time)",
        hint="look at the message and what it names; replay it once the cause is found",
    )


def attempt_of(headers: Mapping[str, Any]) -> int:
    """The attempt this delivery is: failed attempts so far (the header) plus one."""
    try:
        done = int(headers.get(HEADER_ATTEMPT, 0))
    except (TypeError, ValueError):
        done = 0
    return max(done, 0) + 1


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, MailpipeError):
        return exc.retryable
    return True  # unexpected: see the module docstring


def decide(exc: BaseException | None, attempt: int, tiers: int) -> Outcome:
    """Ack, retry in tier ``attempt - 1``, or dead-letter, for a handler that raised ``exc``."""
    if exc is None:
        return ACKED
    if isinstance(exc, HandBack):
        return Outcome(Action.REQUEUE, reason=exc.code, error=exc.message)
    reason = exc.code if isinstance(exc, MailpipeError) else REASON_UNEXPECTED
    hint = (exc.hint or "") if isinstance(exc, MailpipeError) else ""
    error, tb = error_text(exc), summary(exc)
    if is_retryable(exc) and attempt - 1 < tiers:
        tier = max(attempt - 1, 0)
        return Outcome(Action.RETRY, tier, reason=reason, error=error, hint=hint, traceback=tb)
    if is_retryable(exc) and not hint:
        hint = (
            f"gave up after {attempt} attempts; fix the cause, then move the message back "
            "to its work queue"
        )
    return Outcome(Action.DEAD, reason=reason, error=error, hint=hint, traceback=tb)


def error_text(exc: BaseException) -> str:
    text = exc.message if isinstance(exc, MailpipeError) else f"{type(exc).__name__}: {exc}"
    # Dead-letter headers travel on the broker: no credential may ride along.
    return truncate(redact_url(text), MAX_ERROR_CHARS)


def summary(exc: BaseException) -> str:
    """The exception line and its innermost frames: enough to find the bug, small enough to
    travel in a header."""
    frames = traceback.extract_tb(exc.__traceback__)[-TRACEBACK_FRAMES:]
    where = [f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno} in {f.name}" for f in frames]
    # The exception line is cut first, so that a long message never crowds out the frames.
    last = truncate(redact_url(traceback.format_exception_only(type(exc), exc)[-1].strip()), 300)
    return truncate(" <- ".join([last, *reversed(where)]), MAX_TRACEBACK_CHARS)


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def carried_headers(headers: Mapping[str, Any]) -> dict[str, Any]:
    """The headers a republished copy keeps (the broker's own per-delivery ones dropped)."""
    return {k: v for k, v in headers.items() if k not in _BROKER_HEADERS}


def _keep_routing_key(out: dict[str, Any], delivery: Delivery) -> None:
    """The key the message was first published with, as the delivery read it (a header the
    publisher set is not believed; see wire.first_routing_key)."""
    if delivery.routing_key:
        out[HEADER_ROUTING_KEY] = delivery.routing_key
    else:
        out.setdefault(HEADER_ROUTING_KEY, delivery.routing_key)


def retry_headers(headers: Mapping[str, Any], delivery: Delivery) -> dict[str, Any]:
    out = carried_headers(headers)
    out[HEADER_ATTEMPT] = delivery.attempt
    _keep_routing_key(out, delivery)
    return out


def hand_back_headers(headers: Mapping[str, Any], delivery: Delivery) -> dict[str, Any]:
    """Headers of a message handed back as it is (memory:// republishes it through the
    default exchange, where counts are believed): the attempt and first routing key as the
    delivery read them, never a publisher's own."""
    out = carried_headers(headers)
    out[HEADER_ATTEMPT] = delivery.attempt - 1  # handed back untried: no attempt more
    _keep_routing_key(out, delivery)
    return out


def dead_letter_headers(
    headers: Mapping[str, Any], delivery: Delivery, outcome: Outcome
) -> dict[str, Any]:
    out = carried_headers(headers)
    out.update(
        {
            HEADER_ATTEMPT: delivery.attempt,
            HEADER_REASON: outcome.reason,
            HEADER_ERROR: outcome.error,
            HEADER_TRACEBACK: outcome.traceback,
            HEADER_QUEUE: delivery.queue,
        }
    )
    if outcome.hint:
        out[HEADER_HINT] = truncate(outcome.hint, MAX_ERROR_CHARS)
    _keep_routing_key(out, delivery)
    return out


def backoff_s(failures: int, *, base_s: float = 0.5, cap_s: float = 30.0) -> float:
    """Exponential reconnect backoff: 0.5, 1, 2, 4 … seconds, capped."""
    return float(min(cap_s, base_s * 2 ** max(failures - 1, 0)))
