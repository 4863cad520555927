"""A dead hook that keeps failing retries its message through the last tier a bounded number
of times, then parks it in the dead-letter queue: never an endless loop."""

from __future__ import annotations

from libs.common.broker.names import WorkQueue
from libs.common.broker.policy import Action, Delivery
from libs.common.broker.work import HOOK_RETRIES, Work
from libs.common.contracts import RecordEvent
from libs.common.errors import PermanentError

QUEUE = WorkQueue("t.q", "t.events", "record.#", (1, 2, 3))
EVENT = RecordEvent.model_validate(
    {
        "event": "created",
        "record_id": 1,
        "mailbox": "support@contoso.com",
        "subject": "s",
        "message_count": 1,
        "change": "new_request",
        "occurred_at": "2026-01-01T00:00:00Z",
    }
).to_json()


class Broken(PermanentError):
    code = "broken"


def _fail(items: list[tuple[RecordEvent, Delivery]]) -> list[BaseException | None]:
    return [Broken("cannot handle it") for _ in items]


def _hook_fails(payload: RecordEvent, delivery: Delivery, outcome: object) -> None:
    raise ValueError("the hook breaks on this message every time")


def _outcome(attempt: int) -> tuple[Action, int | None]:
    work = Work(QUEUE, RecordEvent, _fail, None, _hook_fails)
    [outcome] = work([(EVENT, Delivery("m", "c", attempt=attempt))])
    return outcome.action, outcome.tier


def test_a_failing_hook_sends_its_message_to_the_last_tier_for_a_while() -> None:
    assert _outcome(1) == (Action.RETRY, 2)
    assert _outcome(len(QUEUE.retries) + HOOK_RETRIES - 1) == (Action.RETRY, 2)


def test_a_hook_that_never_works_parks_the_message_in_the_dead_letter_queue() -> None:
    assert _outcome(len(QUEUE.retries) + HOOK_RETRIES) == (Action.DEAD, None)
