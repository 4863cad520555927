"""Dead-letter queues on RabbitMQ: list, retry and drop what the consumer loops parked there
(``mailpipe dead``; docs/broker.md, "Dead letters").

Quorum queues cannot be browsed, so a pass takes messages with ``basic.get`` and no ack,
holds them, and hands back those it does not act on with ``basic.reject(requeue)`` in the
order they came. RabbitMQ queues handed-back messages ahead of the others, each behind those
handed back before it; so a pass always takes every ready message (a partial one would
rotate the queue), and then reading reorders nothing and loses nothing (a dropped
connection hands them back the same way). Checked on RabbitMQ 3.10.
Each hand-back raises the message's ``x-delivery-count``; dead queues have no delivery limit
(topology.py), so that number means nothing there and is never shown.

A pass takes at most the messages ready when it starts, so a replayed message that fails at
once and comes back is not met again in the same pass. A retry publishes the copy to its
work queue through the default exchange (its consumer only, not every queue bound to the
topic), confirmed and mandatory, and only then acks the dead letter: a crash in between
leaves it in both places, which the idempotent consumers absorb. Nothing is lost.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from amqp.exceptions import AMQPError, NotFound
from kombu import Connection, Message, Queue
from kombu.exceptions import OperationalError

from libs.common.broker import dead
from libs.common.broker.broker import Broker
from libs.common.broker.dead import DeadLetter
from libs.common.broker.names import WorkQueue
from libs.common.broker.publisher import Outgoing, Outlet, close_quietly, open_connection
from libs.common.errors import BrokerError, ConfigError, MailpipeError
from libs.common.startup import broker_failure, broker_where, namespace_not_declared

#: Replays published per confirm wait.
BATCH = 100
#: How long a pass waits for the messages it handed back to be ready again.
RETURN_WAIT_S = 5.0

Select = Callable[[DeadLetter], bool]


Act = Callable[[Outlet, list[DeadLetter], "Pass"], None]


class QueueMissing(ConfigError):
    """The dead-letter queue is not declared: no service of the namespace ran on this broker."""


@dataclass
class Pass:
    """What one pass over a dead queue saw and did."""

    queue: WorkQueue
    ready: int
    seen: list[DeadLetter] = field(default_factory=list)
    acted: list[DeadLetter] = field(default_factory=list)
    #: (id, body hash) of the copies published back, so that duplicates go back once.
    published: set[tuple[str, str]] = field(default_factory=set)


class DeadLetters:
    """The dead-letter queues of one namespace, through a :class:`Broker`'s connection."""

    def __init__(self, broker: Broker, *, confirm_timeout_s: float = 30.0) -> None:
        if broker.memory:
            raise ConfigError(
                "the embedded broker (memory://) keeps its dead letters inside the process "
                "that runs it; no other process can read them",
                hint="run on RabbitMQ (`mailpipe run --broker-url amqp://…`, or the "
                "distributed services) to keep, list and retry dead letters",
            )
        self._broker = broker
        self._confirm_timeout_s = confirm_timeout_s

    @property
    def namespace(self) -> str:
        return self._broker.names.namespace

    def missing(self, queue: WorkQueue) -> QueueMissing:
        where = broker_where(_where(self._broker))
        said = namespace_not_declared(self.namespace, where)
        return QueueMissing(f"{said.message} ({queue.dead!r} is missing)", hint=said.hint)

    def queues(self, only: str | None = None) -> list[WorkQueue]:
        """Every work queue, or the one ``only`` names (``sender``, ``mailpipe.sender`` or
        ``mailpipe.sender.dead``)."""
        every = list(self._broker.names.work_queues)
        if only is None:
            return every
        prefix = self._broker.names.namespace + "."
        for queue in every:
            if only in (queue.name, queue.dead, queue.name.removeprefix(prefix)):
                return [queue]
        known = ", ".join(q.name.removeprefix(prefix) for q in every)
        raise ConfigError(f"no work queue {only!r}", hint=f"name one of: {known}")

    def count(self, queue: WorkQueue) -> int | None:
        """Messages waiting in ``queue``'s dead queue; None when it is not declared."""
        with self._channel() as channel:
            try:
                return int(channel.queue_declare(queue=queue.dead, passive=True)[1])
            except NotFound:
                return None

    def read(self, queue: WorkQueue, limit: int | None = None) -> Pass:
        """Hand every letter back, in order; describe the first ``limit``."""
        return self._pass(queue, lambda letter: False, None, limit)

    def retry(self, queue: WorkQueue, select: Select) -> Pass:
        """Move the selected letters back to their work queue (one copy per message)."""
        return self._pass(queue, select, self._republish, None)

    def drop(self, queue: WorkQueue, select: Select) -> Pass:
        """Remove the selected letters for good."""
        return self._pass(queue, select, lambda outlet, chosen, done: None, None)

    def _pass(
        self,
        queue: WorkQueue,
        select: Select,
        act: Act | None,
        limit: int | None,
    ) -> Pass:
        with self._channel() as channel:
            try:
                ready = int(channel.queue_declare(queue=queue.dead, passive=True)[1])
            except NotFound:
                raise self.missing(queue) from None
            done = Pass(queue, ready)
            outlet = Outlet(channel, memory=False, confirm_timeout_s=self._confirm_timeout_s)
            source = Queue(queue.dead, no_declare=True).bind(channel)
            held: list[Message] = []
            chosen: list[tuple[Message, DeadLetter]] = []
            # Always every ready message, even to show a few: a message handed back goes
            # behind those handed back before it, so a partial pass would rotate the queue.
            for message, letter in _take(source, queue, ready):
                if limit is None or len(done.seen) < limit:
                    done.seen.append(letter)
                if act is not None and select(letter):
                    chosen.append((message, letter))
                    if len(chosen) >= BATCH:
                        self._settle(outlet, chosen, act, done)
                else:
                    held.append(message)
            if chosen and act is not None:
                self._settle(outlet, chosen, act, done)
            for message in held:  # in the order taken: the queue's order is kept
                message.reject(requeue=True)
            if held:
                _wait_until_back(channel, queue.dead, len(held))
            return done

    @staticmethod
    def _settle(
        outlet: Outlet,
        chosen: list[tuple[Message, DeadLetter]],
        act: Act,
        done: Pass,
    ) -> None:
        """Act (publish, confirmed), then ack: a failure before the ack keeps the letters."""
        act(outlet, [letter for _, letter in chosen], done)
        for message, letter in chosen:
            message.ack()
            done.acted.append(letter)
        chosen.clear()

    def _republish(self, outlet: Outlet, letters: list[DeadLetter], done: Pass) -> None:
        items = []
        published = done.published
        for letter in letters:
            # Copies of one message (a crash between copy and ack made two) go back once.
            same = (letter.key, hashlib.sha256(letter.body).hexdigest())
            if same in published:
                continue
            published.add(same)
            items.append(
                Outgoing(
                    "",
                    letter.work_queue,
                    letter.body,
                    dead.replay_properties(letter),
                    dead.replay_headers(letter),
                    mandatory=True,
                )
            )
        if items:
            outlet.send_many(items)

    @contextmanager
    def _channel(self) -> Iterator[Any]:
        conn: Connection = self._broker.connection()
        try:
            try:
                open_connection(conn)
                channel = conn.channel()
            except (OSError, AMQPError, OperationalError) as exc:
                raise _unreachable(self._broker, exc) from None
            yield channel
        finally:
            close_quietly(conn)  # anything still held goes back to its queue, in order


def _wait_until_back(channel: Any, name: str, count: int) -> None:
    """The broker takes handed-back messages in asynchronously: a command run right after
    this one could count them as still held and show an empty queue. So a pass ends once
    they are ready again (or after ``RETURN_WAIT_S``: they are back by then in any case,
    since the connection closes)."""
    deadline = time.monotonic() + RETURN_WAIT_S
    while time.monotonic() < deadline:
        if int(channel.queue_declare(queue=name, passive=True)[1]) >= count:
            return
        time.sleep(0.02)


def _take(source: Queue, queue: WorkQueue, wanted: int) -> Iterator[tuple[Message, DeadLetter]]:
    for _ in range(wanted):
        message = source.get(no_ack=False)
        if message is None:
            return
        body = message.body if isinstance(message.body, bytes) else str(message.body).encode()
        props = dict(message.properties or {})
        props.pop("application_headers", None)  # kombu's copy of the headers
        props.setdefault("content_type", message.content_type)
        props.setdefault("content_encoding", message.content_encoding)
        letter = dead.describe(queue.dead, queue.name, body, message.headers or {}, props)
        yield message, letter


def _unreachable(broker: Broker, exc: BaseException) -> MailpipeError:
    """Said as every command says it (libs/common/startup.py), plus where the embedded
    mode's dead letters are."""
    error = broker_failure(exc, _where(broker), broker.names.namespace)
    if isinstance(error, BrokerError):
        error.hint = (
            f"{error.hint}; `mailpipe run` without --broker-url keeps its dead letters "
            "in its own memory"
        )
    return error


def _where(broker: Broker) -> str:
    """The broker's URL with its password masked (kombu's ``as_uri``): host, port, user and
    vhost are all the messages use."""
    return str(broker.connection().as_uri())
