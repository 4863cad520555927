"""What the console's ``/dead-letters`` page needs: the namespace's dead-letter queues, read,
retried and dropped through :class:`~libs.common.broker.dead_queue.DeadLetters`, as
``mailpipe dead`` does. A connection is opened for each page and action (the broker named by
``MAILPIPE_AMQP_URL`` and ``MAILPIPE_NAMESPACE``, or ``mailpipe run``'s ``--broker-url``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from libs.common.broker import Broker, Names
from libs.common.broker.dead_queue import DeadLetters, Pass, QueueMissing
from libs.common.broker.dead_view import RETRY_NOTES, summary
from libs.common.broker.names import WorkQueue

#: Messages shown per queue at most (as ``mailpipe dead list``'s default).
SHOWN = 100

Action = Literal["retry", "drop"]
OpenLetters = Callable[[], AbstractContextManager[DeadLetters]]


@dataclass(frozen=True)
class QueueView:
    """One dead-letter queue: ``short`` is the work queue's name without the namespace."""

    short: str
    dead: str
    work: str
    declared: bool
    waiting: int
    letters: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Done:
    """What an action did: how many letters, from which queue, and the CLI's note."""

    action: Action
    count: int
    queue: str
    note: str = ""


class DeadLetterDesk:
    def __init__(self, open_letters: OpenLetters) -> None:
        self._open = open_letters

    def queues(self) -> list[QueueView]:
        with self._open() as letters:
            return [_view(letters, q) for q in letters.queues()]

    def act(self, action: Action, short: str, key: str | None) -> Done:
        """Retry or drop the letter ``key`` (every letter when None) of queue ``short``."""
        with self._open() as letters:
            (queue,) = letters.queues(short)
            chosen: Callable[[Any], bool] = (
                (lambda letter: letter.key == key) if key else (lambda letter: True)
            )
            done = (letters.retry if action == "retry" else letters.drop)(queue, chosen)
            name = _short(letters, queue)
        note = RETRY_NOTES.get(name, "") if action == "retry" and done.acted else ""
        return Done(action, len(done.acted), name, note)


def _short(letters: DeadLetters, queue: WorkQueue) -> str:
    return queue.name.removeprefix(letters.namespace + ".")


def _view(letters: DeadLetters, queue: WorkQueue) -> QueueView:
    short = _short(letters, queue)
    try:
        done: Pass = letters.read(queue, SHOWN)
    except QueueMissing:
        return QueueView(short, queue.dead, queue.name, declared=False, waiting=0)
    shown = [summary(letter) for letter in done.seen]
    return QueueView(short, queue.dead, queue.name, True, done.ready, shown)


def broker_letters(amqp_url: str | None = None) -> OpenLetters:
    """Dead letters on the broker of the settings (or ``amqp_url``), opened at each use."""

    @contextmanager
    def open_letters() -> Iterator[DeadLetters]:
        from libs.common.settings import Settings

        settings = Settings()
        url = amqp_url or settings.amqp_url.get_secret_value()
        with Broker(url, Names(settings.namespace)) as broker:
            yield DeadLetters(broker)

    return open_letters
