"""The consumer loop: one work queue, one handler, nothing ends it but ``stop``.

Threads (py-amqp connections are not thread-safe, and a handler may block for longer than the
heartbeat allows): the *connection thread* — the caller's — owns the connection. It reads
frames, sends heartbeats, acks and republishes. The handler runs on a *worker thread*
(:mod:`~libs.common.broker.work`; one per batch in hand, ``workers`` at most); while it works,
the connection thread keeps pumping frames and heartbeats, then carries out the handler's
:class:`~libs.common.broker.policy.Outcome` once it is known. A handler that publishes uses
the broker's separate, locked publishing connection. Crash loops: :mod:`.suspects`.

Order of effects, so that nothing is lost: the retry or dead-letter copy is published (and
confirmed) *before* the original is acked. A crash in between duplicates, never drops.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from threading import Event
from typing import Any, Generic, TypeVar

import structlog
from amqp.exceptions import AccessRefused, PreconditionFailed
from kombu import Connection, Message, Queue
from kombu import Consumer as KombuConsumer

from libs.common.broker import copies, policy
from libs.common.broker.batch import BatchHandler, BatchSettings, Handler, Pending
from libs.common.broker.copies import Job
from libs.common.broker.delayed import DelayedRetries
from libs.common.broker.names import WorkQueue
from libs.common.broker.policy import Action, Outcome
from libs.common.broker.publisher import Outlet, close_quietly, open_connection
from libs.common.broker.suspects import Prefetch, is_suspect
from libs.common.broker.topology import declare_work_queue
from libs.common.broker.wire import body_of, delivery_of
from libs.common.broker.work import DeadHook, InvalidHook, Work, bound
from libs.common.contracts import Contract

log = structlog.get_logger("libs.common.broker")

C = TypeVar("C", bound=Contract)

__all__ = ["BatchHandler", "ConsumerLoop", "DeadHook", "Handler", "InvalidHook", "LoopSettings"]

#: How long the connection thread waits on the handler, and on the socket, per turn.
TICK_S = 0.05
IDLE_TICK_S = 0.2
#: While the handler works: how long one read of the socket may block.
BUSY_TICK_S = 0.002
#: After a first frame: the wait for each next one that is already on its way.
DRAIN_S = 0.0005
MAX_FRAMES_PER_PUMP = 500


@dataclass
class _Batch:
    """Jobs handed to the worker together; a job leaves ``jobs`` once settled."""

    jobs: list[Job]
    future: Future[list[Outcome]]
    #: A suspect: nothing else runs beside it.
    alone: bool = False


@dataclass(frozen=True)
class LoopSettings:
    prefetch: int
    memory: bool
    confirm_timeout_s: float
    max_backoff_s: float


class ConsumerLoop(Generic[C]):
    """Consume one work queue in batches (``BatchSettings()`` = one message at a time)."""

    def __init__(
        self,
        connect: Callable[[], Connection],
        settings: LoopSettings,
        queue: WorkQueue,
        contract: type[C],
        handler: BatchHandler[C],
        stop: Event,
        on_invalid: InvalidHook | None = None,
        on_dead: DeadHook[C] | None = None,
        batch: BatchSettings | None = None,
    ) -> None:
        self._connect = connect
        self._settings = settings
        self._queue = queue
        self._work = Work(queue, contract, handler, on_invalid, on_dead)
        self._stop = stop
        self._batch_settings = batch or BatchSettings()
        self._pending: Pending[Message] = Pending(self._batch_settings)
        #: Batches handed to the workers, oldest first; one leaves once settled.
        self._running: list[_Batch] = []
        self._delayed = DelayedRetries()
        self._failures = 0
        self._pool: ThreadPoolExecutor | None = None
        self._outlet: Outlet | None = None
        self._prefetch: Prefetch | None = None

    def run(self) -> None:
        """Consume until ``stop`` is set; reconnect with capped exponential backoff."""
        name = f"handler-{self._queue.name}"
        workers = self._batch_settings.workers
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name) as pool:
            self._pool = pool
            while not self._stop.is_set():
                try:
                    self._session()
                except Exception as exc:  # no exception ends the loop: reconnect
                    self._failures += 1
                    delay = policy.backoff_s(self._failures, cap_s=self._settings.max_backoff_s)
                    hint = _hint_for(exc)
                    (log.error if hint else log.warning)(
                        "consumer lost the broker; reconnecting",
                        queue=self._queue.name,
                        error=f"{type(exc).__name__}: {policy.truncate(str(exc), 300)}",
                        hint=hint,
                        retry_in_s=delay,
                    )
                    self._stop.wait(delay)
        log.info("consumer stopped", queue=self._queue.name)

    def _session(self) -> None:
        conn = self._connect()
        try:
            open_connection(conn)
            channel = conn.channel()
            declare_work_queue(channel, self._queue)
            outlet = self._outlet = Outlet(
                channel,
                memory=self._settings.memory,
                confirm_timeout_s=self._settings.confirm_timeout_s,
            )
            consumer = KombuConsumer(
                channel,
                queues=[Queue(self._queue.name, no_declare=True)],
                on_message=self._pending.append,
                auto_declare=False,
                no_ack=False,
            )
            self._prefetch = Prefetch(
                channel, consumer, self._settings.prefetch, memory=self._settings.memory
            )
            self._prefetch.start()
            self._failures = 0
            log.info("consuming", queue=self._queue.name)
            self._loop(conn, outlet)
            self._release_delayed(outlet, everything=True)
            consumer.cancel()
        finally:
            self._abandon()
            self._outlet = None
            close_quietly(conn)

    def _loop(self, conn: Connection, outlet: Outlet) -> None:
        workers = self._batch_settings.workers
        while True:
            for batch in [b for b in self._running if b.future.done()]:
                # Removed only once settled: if settling fails, _abandon hands back the jobs
                # not settled yet.
                self._settle(outlet, batch)
                self._running.remove(batch)
            if self._stop.is_set():
                if not self._running:
                    return
            else:
                self._start_ready(workers)
            if self._running:
                # Short: a handler's end is noticed here, between reads of the socket.
                _pump(conn, BUSY_TICK_S)
            else:
                left = self._pending.wait_left_s()
                _pump(conn, IDLE_TICK_S if left is None else min(max(left, 0.005), TICK_S))
            self._release_delayed(outlet)
            conn.heartbeat_check()

    def _start_ready(self, workers: int) -> None:
        """Start what may start: batches of messages never handed back, or one suspect alone
        (suspects.py)."""
        first = self._pending.peek()
        if first is not None and not is_suspect(first) and self._prefetch is not None:
            self._prefetch.widen()  # a clean message: no crash loop at the head of the queue
        while len(self._running) < workers and self._pending.ready():
            if any(batch.alone for batch in self._running):
                return
            if is_suspect(self._pending.peek()):
                if not self._running:
                    self._start(self._pending.take_one(), alone=True)
                return
            self._start(self._pending.take(until=is_suspect))

    def _start(self, messages: list[Message], *, alone: bool = False) -> None:
        assert self._pool is not None
        jobs = [Job(m, body_of(m), delivery_of(m, self._queue.name)) for m in messages]
        # The worker sees this thread's context variables (the service name bound at start).
        context = contextvars.copy_context()
        future = self._pool.submit(context.run, self._work, [(j.body, j.delivery) for j in jobs])
        self._running.append(_Batch(jobs, future, alone=alone))

    def _settle(self, outlet: Outlet, batch: _Batch) -> None:
        """On the connection thread: carry out each outcome, then ack, job by job."""
        for outcome in batch.future.result():
            job = batch.jobs[0]
            with bound(job.delivery):
                if outcome.action is Action.REQUEUE:
                    self._hand_back(job)
                    batch.jobs.pop(0)
                    continue
                if outcome.action is Action.RETRY:
                    delayed = self._delayed if self._settings.memory else None
                    copies.retry(outlet, self._queue, job, outcome, delayed)
                elif outcome.action is Action.DEAD:
                    copies.dead_letter(outlet, self._queue, job, outcome)
                job.message.ack()
                if outcome.action is Action.ACK:
                    log.debug("message acked", queue=self._queue.name)
            batch.jobs.pop(0)  # settled: _abandon hands back only what is left

    def _hand_back(self, job: Job) -> None:
        memory_outlet = self._outlet if self._settings.memory else None
        copies.hand_back(job.message, self._queue.name, memory_outlet)
        log.info("message handed back to its queue", queue=self._queue.name)

    def _release_delayed(self, outlet: Outlet, *, everything: bool = False) -> None:
        """``memory://`` only: put due retries back on the work queue (all of them on stop,
        so that they are not held back while the process winds down)."""
        if not self._settings.memory:
            return  # over AMQP the retry tiers are queues: nothing is held here

        def send(body: bytes, properties: dict[str, Any], headers: dict[str, Any]) -> None:
            outlet.send("", self._queue.name, body, properties, headers, mandatory=True)

        self._delayed.release(send, everything=everything)

    def _abandon(self) -> None:
        """The session ends: wait for running handlers, then hand unsettled messages back."""
        batches, self._running = self._running, []
        messages = self._pending.clear()
        unsettled: list[Message] = []
        for batch in batches:
            wait([batch.future])
            if batch.jobs:
                log.warning(
                    "session ended before messages were settled; they will be redelivered",
                    queue=self._queue.name,
                    message_ids=[job.delivery.message_id for job in batch.jobs],
                )
            unsettled.extend(job.message for job in batch.jobs)
        messages[:0] = unsettled
        memory_outlet = self._outlet if self._settings.memory else None
        for message in messages:
            try:
                copies.hand_back(message, self._queue.name, memory_outlet)
            except Exception as exc:  # the channel is gone: the broker requeues by itself
                log.debug("handing a message back failed", error=type(exc).__name__)


def _hint_for(exc: BaseException) -> str | None:
    """What the operator should do when reconnecting alone cannot help."""
    if isinstance(exc, PreconditionFailed):
        return (
            "a queue of this namespace exists with other arguments (say, an older delivery "
            "limit): move its messages away and delete it, or use another MAILPIPE_NAMESPACE"
        )
    if isinstance(exc, AccessRefused):
        return "the broker refused the login: check the user and password in MAILPIPE_AMQP_URL"
    return None


def _pump(conn: Connection, timeout: float) -> None:
    """Wait up to ``timeout`` for what the broker sends (deliveries, confirms, heartbeats),
    then read everything that is already there: one read gives one frame, and a prefetch
    window of deliveries must not take one turn of the loop each."""
    with contextlib.suppress(TimeoutError):
        conn.drain_events(timeout=timeout)
        for _ in range(MAX_FRAMES_PER_PUMP):
            conn.drain_events(timeout=DRAIN_S)
