"""What runs on a consumer loop's worker thread for one batch: parse each message against its
contract, give up crash-looping ones, run the handler once, and turn what happened into one
:class:`~libs.common.broker.policy.Outcome` per message (``on_invalid`` and ``on_dead`` run
here, before the connection thread settles the batch)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import structlog

from libs.common.broker import policy
from libs.common.broker.batch import BatchHandler, call
from libs.common.broker.names import WorkQueue
from libs.common.broker.policy import ACKED, Action, Delivery, Outcome, decide
from libs.common.contracts import Contract
from libs.common.contracts.wire_json import wire_problem
from libs.common.errors import ContractError
from libs.common.logging import log_context

log = structlog.get_logger("libs.common.broker")

C = TypeVar("C", bound=Contract)
InvalidHook = Callable[[bytes, Delivery, ContractError], None]
#: Called on the worker thread when a valid message is about to be dead-lettered (a permanent
#: error, or retries used up), so the service can make the loss visible to the user: the
#: ticketer quarantines the mail, the sender publishes a ``failed`` result.
DeadHook = Callable[[C, Delivery, Outcome], None]
#: Passes through the last retry tier a failing dead hook gets (a database outage heals in
#: that time) before its message is parked in the dead-letter queue without it.
HOOK_RETRIES = 5


class Work(Generic[C]):
    def __init__(
        self,
        queue: WorkQueue,
        contract: type[C],
        handler: BatchHandler[C],
        on_invalid: InvalidHook | None,
        on_dead: DeadHook[C] | None,
    ) -> None:
        self._queue = queue
        self._contract = contract
        self._handler = handler
        self._on_invalid = on_invalid
        self._on_dead = on_dead
        self._tiers = len(queue.retries)

    def __call__(self, items: list[tuple[bytes, Delivery]]) -> list[Outcome]:
        """Parse, run the handler once, classify what happened: one outcome per item."""
        outcomes: list[Outcome | None] = [None] * len(items)
        valid: list[tuple[int, C, Delivery]] = []
        for index, (body, delivery) in enumerate(items):
            with bound(delivery):
                try:
                    payload = self._parse(body, delivery)
                except ContractError as exc:
                    outcomes[index] = self._invalid(body, delivery, exc)
                    continue
                given_up = policy.crash_loop(delivery)
                if given_up is not None:  # the handler is not run again
                    outcomes[index] = self._dead(payload, delivery, given_up)
                else:
                    valid.append((index, payload, delivery))
        if valid:
            # A batch of one runs with its ids bound, so the handler's own lines carry them.
            binding = bound(valid[0][2]) if len(valid) == 1 else contextlib.nullcontext()
            with binding:
                results = call(self._handler, [(p, d) for _, p, d in valid])
        else:
            results = []
        for (index, payload, delivery), failure in zip(valid, results, strict=True):
            outcome = decide(failure, delivery.attempt, self._tiers)
            if outcome.action is Action.DEAD:
                with bound(delivery):
                    outcome = self._dead(payload, delivery, outcome)
            outcomes[index] = outcome
        return [o if o is not None else ACKED for o in outcomes]

    def _parse(self, body: bytes, delivery: Delivery) -> C:
        """The message, read as its contract says; a contract others write also refuses a
        body declared as other than UTF-8 JSON (compressed, another type or charset)."""
        if self._contract.STRICT_JSON:
            problem = wire_problem(delivery.content_type, delivery.content_encoding)
            if problem is not None:
                raise ContractError(f"{self._contract.SCHEMA}: {problem}")
        return self._contract.from_json(body)

    def _dead(self, payload: C, delivery: Delivery, outcome: Outcome) -> Outcome:
        """Run the dead hook; if the hook itself fails, the message waits in the last retry
        tier and both are tried again, so that it is never parked without its hook."""
        if self._on_dead is None:
            return outcome
        try:
            self._on_dead(payload, delivery, outcome)
        except BaseException as exc:
            if delivery.attempt >= self._tiers + HOOK_RETRIES:
                # A hook that fails every time must not keep its message circling for ever:
                # park it where an operator looks (the dead-letter queue), loudly.
                log.error(
                    "dead-letter hook kept failing; message parked in the dead-letter queue",
                    queue=self._queue.name,
                    dead_letter_queue=self._queue.dead,
                    attempts=delivery.attempt,
                    error=policy.error_text(exc),
                )
                return outcome
            log.error(
                "dead-letter hook failed; retrying the message later",
                queue=self._queue.name,
                error=policy.error_text(exc),
            )
            return dataclasses.replace(outcome, action=Action.RETRY, tier=self._tiers - 1)
        return outcome

    def _invalid(self, body: bytes, delivery: Delivery, error: ContractError) -> Outcome:
        if self._on_invalid is not None:
            try:
                self._on_invalid(body, delivery, error)
            except BaseException as exc:  # the hook's own failure is retried like a handler's
                return decide(exc, delivery.attempt, self._tiers)
        return decide(error, delivery.attempt, self._tiers)


def bound(delivery: Delivery) -> Any:
    """Log lines inside carry the message's ids."""
    return log_context(correlation_id=delivery.correlation_id, amqp_message_id=delivery.message_id)
