"""Mailbox leases: which of several fetchers polls which mailbox, decided by RabbitMQ.

Per mailbox one lease queue (``Names.fetcher_lease``) with ``x-single-active-consumer``:
every fetcher consumes every lease queue, and the broker keeps exactly one consumer of each
active. Which one is not announced, so each queue carries a *token* message: only the active
consumer is given it, and it holds it unacknowledged (prefetch 1) for as long as its
connection lives. Holding the token is owning the mailbox (:class:`LeaseBook`). When the
connection dies (the process exits: at once; the host hangs: after the heartbeat timeout) the
broker requeues the token and makes another consumer active, which is handed it.

Exactly one token is not needed, only at least one: every token goes to the one active
consumer. So every fetcher offers a token to each queue whose token it does not hold, when it
connects and once per refresh; ``x-max-length 1`` with ``drop-head`` keeps at most one
waiting, so a queue holds at most two (one in hand, one ready). A lost token (the queue
deleted, the broker restarted) is replaced within one refresh. The queues are
``auto_delete``: when the last fetcher leaves, the queue and its tokens go with it.

The mailboxes are shared out: once per refresh a fetcher counts the fetchers (the consumers of
a lease queue, waiting ones included) and hands back what it holds beyond its fair share
(:mod:`libs.common.broker.leaseshare`). Handing back a token: no new round starts on it, the
rounds in flight end, the consumer is cancelled *first* (the broker makes the next one in line
active), then the token is rejected to be requeued (it goes to that one: on RabbitMQ 3.10 the
cancel alone does not deliver even a waiting token), and the queue is consumed again, last in
line.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import structlog
from amqp import Message as AmqpMessage
from kombu import Connection

from libs.common.broker import policy
from libs.common.broker.leasebook import LeaseBook, Unshared
from libs.common.broker.leaseshare import to_hand_back
from libs.common.broker.names import Names
from libs.common.broker.publisher import close_quietly, open_connection

log = structlog.get_logger("libs.common.broker")

TOKEN = b"lease"
#: The lease connection's heartbeat: at most the shortest poll interval (a hung fetcher's
#: mailboxes move on within it), at least this (a shorter one would flap on a busy host).
MIN_HEARTBEAT_S = 2
#: A holder stops counting itself one after this share of the heartbeat without a frame: the
#: broker's own verdict takes a whole heartbeat timeout of silence, or longer.
STALE_SHARE = 0.75
#: How long one read of the socket may block.
TICK_S = 0.2
#: How long a stopping fetcher waits for its rounds in flight before it gives the tokens back.
STOP_WAIT_S = 120.0


def lease_queue_arguments() -> dict[str, Any]:
    return {"x-single-active-consumer": True, "x-max-length": 1, "x-overflow": "drop-head"}


def declare_lease_queue(channel: Any, name: str) -> Any:
    """Declares the queue (idempotent); the declare-ok carries its ``consumer_count``."""
    return channel.queue_declare(
        queue=name,
        durable=True,
        exclusive=False,
        auto_delete=True,
        arguments=lease_queue_arguments(),
    )


def lease_heartbeat_s(configured_s: float, poll_interval_s: float) -> int:
    """Whole seconds (AMQP negotiates a short integer); 0 (off) is not an option here."""
    wanted = min(x for x in (configured_s, poll_interval_s, float("inf")) if x > 0)
    return max(MIN_HEARTBEAT_S, int(wanted))


class LeaseKeeper:
    """The lease session: one connection, one consumer per lease queue; fills a
    :class:`LeaseBook`. :meth:`run` on its own thread until ``stop`` is set."""

    def __init__(
        self,
        connect: Callable[[], Connection],
        names: Names,
        mailboxes: Sequence[str],
        book: LeaseBook,
        *,
        refresh_s: float,
        max_backoff_s: float = 30.0,
    ) -> None:
        self._connect = connect
        self._names = names
        self._queues = {names.fetcher_lease(m): m for m in mailboxes}
        self._queue_of = {m: q for q, m in self._queues.items()}
        # Per session: each queue's consumer tag, each held token's delivery tag and when it came.
        self._consumers: dict[str, str] = {}
        self._tags: dict[str, int] = {}
        self._since: dict[str, float] = {}
        self.book = book
        self._refresh_s = refresh_s
        self._max_backoff_s = max_backoff_s
        self._failures = 0
        #: The mailboxes an integration change asks for (applied by the session's loop), and
        #: the mailboxes removed whose token or consumer is still to be given up.
        self._wanted: list[str] | None = None
        self._wanted_lock = threading.Lock()
        self._leaving: set[str] = set()
        self._rejoin: set[str] = set()

    def use(self, mailboxes: Sequence[str]) -> None:
        """The mailboxes from now on: a new one gets its lease queue, a removed one is given
        up once its round in flight has ended (applied within one refresh tick)."""
        with self._wanted_lock:
            self._wanted = list(mailboxes)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self._session(stop)
            except Exception as exc:  # no exception ends the loop: reconnect
                self._failures += 1
                delay = policy.backoff_s(self._failures, cap_s=self._max_backoff_s)
                log.warning(
                    "mailbox leases lost the broker; reconnecting",
                    error=f"{type(exc).__name__}: {policy.truncate(str(exc), 300)}",
                    retry_in_s=delay,
                )
                stop.wait(delay)
        self.book.close()
        log.info("mailbox leases given back")

    def _session(self, stop: threading.Event) -> None:
        conn = self._connect()
        try:
            open_connection(conn)
            channel = conn.channel()
            channel.basic_qos(0, 1, False)  # one token in hand per queue
            self._consumers, self._tags, self._since = {}, {}, {}
            for queue, mailbox in self._queues.items():
                self._consume(channel, queue, mailbox)
            self.book.reopen()
            self.book.heard()
            self._failures = 0
            self._loop(conn, channel, stop)
        finally:
            held = sorted(self.book.tokens())
            self.book.lost()
            if held:
                log.info("mailbox leases released", mailboxes=held)
            close_quietly(conn)

    def _loop(self, conn: Connection, channel: Any, stop: threading.Event) -> None:
        received = -1
        next_offer = 0.0
        stop_by: float | None = None
        while True:
            if stop.is_set():
                self.book.close()
                stop_by = stop_by or time.monotonic() + STOP_WAIT_S
                if self.book.idle() or time.monotonic() > stop_by:
                    return
            else:
                self._follow(channel)
                if time.monotonic() >= next_offer:
                    self._offer(channel)
                    self._share(channel)
                    next_offer = time.monotonic() + self._refresh_s
                self._hand_back(channel)
            with contextlib.suppress(TimeoutError):
                conn.drain_events(timeout=TICK_S)
            conn.heartbeat_check()
            now_received = conn.connection.bytes_recv
            if now_received != received:
                received = now_received
                self.book.heard()

    def _offer(self, channel: Any) -> None:
        """A token to each queue whose token is not in hand (see the module's docstring)."""
        held = self.book.tokens()
        for queue, mailbox in self._queues.items():
            # Only into a queue with no token waiting: RabbitMQ 3.10-3.11 can crash a classic
            # queue with a single active consumer when a publish meets a token waiting for a
            # newly active consumer (rabbitmq-server#5460). A waiting token is an offer enough.
            if mailbox not in held and declare_lease_queue(channel, queue).message_count == 0:
                channel.basic_publish(AmqpMessage(TOKEN, delivery_mode=1), "", queue)

    def _consume(self, channel: Any, queue: str, mailbox: str) -> None:
        # Declared each time: cancelling the last consumer deletes an auto_delete queue.
        declare_lease_queue(channel, queue)
        self._consumers[queue] = channel.basic_consume(
            queue, callback=partial(self._granted, mailbox)
        )

    def _follow(self, channel: Any) -> None:
        """Applies :meth:`use`: consumes the new lease queues, gives up the removed ones."""
        with self._wanted_lock:
            wanted, self._wanted = self._wanted, None
        if wanted is not None:
            self._rejoin = set(wanted) & self._leaving  # removed and added again meanwhile
            queues = {self._names.fetcher_lease(m): m for m in wanted}
            for queue, mailbox in queues.items():
                if queue not in self._queues:
                    self._queues[queue], self._queue_of[mailbox] = mailbox, queue
                    self._consume(channel, queue, mailbox)
                    log.info("mailbox lease queue added", mailbox=mailbox)
            for mailbox in [m for q, m in self._queues.items() if q not in queues]:
                self._leaving.add(mailbox)
                self.book.release(mailbox)
        for mailbox in sorted(self._leaving):
            if not self.book.busy(mailbox):
                self._give_up(channel, mailbox)

    def _give_up(self, channel: Any, mailbox: str) -> None:
        queue = self._queue_of.pop(mailbox)
        del self._queues[queue]
        if queue in self._consumers:
            channel.basic_cancel(self._consumers.pop(queue))
        if mailbox in self._tags:
            channel.basic_reject(self._tags.pop(mailbox), requeue=True)
        self._since.pop(mailbox, None)
        self.book.dropped(mailbox)
        self._leaving.discard(mailbox)
        log.info("mailbox lease released: no longer configured", mailbox=mailbox)
        if mailbox in self._rejoin:  # configured again: back in the line, last
            self._rejoin.discard(mailbox)
            self._queues[queue], self._queue_of[mailbox] = mailbox, queue
            self._consume(channel, queue, mailbox)

    def _share(self, channel: Any) -> None:
        """Marks what this fetcher holds beyond its fair share to be handed back."""
        if not self._queues:
            return
        # Every fetcher consumes every lease queue, so any one queue counts them all.
        fetchers = declare_lease_queue(channel, min(self._queues)).consumer_count
        held = self.book.tokens() - self.book.releasing()
        excess = to_hand_back(
            {box: self._since[box] for box in held if box in self._since},
            mailboxes=len(self._queues),
            fetchers=fetchers,
            now=time.monotonic(),
            min_hold_s=self._refresh_s,
        )
        for mailbox in excess:
            self.book.release(mailbox)

    def _hand_back(self, channel: Any) -> None:
        """Hands on the tokens marked to go whose rounds have ended."""
        for mailbox in sorted(self.book.releasing() - self._leaving):
            if self.book.busy(mailbox):
                continue
            queue = self._queue_of[mailbox]
            # Cancel first: rejected while this consumer is active, the token would come back.
            channel.basic_cancel(self._consumers.pop(queue))
            channel.basic_reject(self._tags.pop(mailbox), requeue=True)
            self.book.dropped(mailbox)
            del self._since[mailbox]
            self._consume(channel, queue, mailbox)  # last in line now: a standby
            log.info("mailbox lease handed on", mailbox=mailbox)

    def _granted(self, mailbox: str, message: Any) -> None:
        # Never acked: the token is held for as long as the connection lives (or handed on).
        if mailbox not in self.book.tokens():
            log.info("mailbox lease taken", mailbox=mailbox)
        self._tags[mailbox] = message.delivery_tag
        self._since.setdefault(mailbox, time.monotonic())
        self.book.granted(mailbox)


def mailbox_leases(
    connect: Callable[[float], Connection],
    names: Names,
    mailboxes: Sequence[str],
    *,
    memory: bool,
    heartbeat_s: float,
    poll_interval_s: float,
) -> tuple[LeaseBook | Unshared, LeaseKeeper | None]:
    """The leases of a fetcher over these mailboxes, and the session that keeps them
    (``None`` over ``memory://``: one process, every mailbox its own)."""
    if memory or not mailboxes:
        return Unshared(), None
    heartbeat = lease_heartbeat_s(heartbeat_s, poll_interval_s)
    book = LeaseBook(stale_after_s=heartbeat * STALE_SHARE)
    keeper = LeaseKeeper(
        partial(connect, float(heartbeat)),
        names,
        mailboxes,
        book,
        refresh_s=max(poll_interval_s, 1.0),
    )
    return book, keeper
