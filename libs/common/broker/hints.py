"""Hearing MailboxChanged hints (docs/push.md): one queue per listening process, exclusive and
auto-delete, bound to every hint on the events exchange. Every fetcher hears every hint and
acts on the mailboxes it polls; hints are hints, so none is acknowledged, retried or kept when
the process goes (the safety poll covers what a gone listener missed)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import structlog
from kombu import Connection, Consumer, Exchange, Queue
from kombu.message import Message

from libs.common.broker.names import Names
from libs.common.broker.publisher import close_quietly, open_connection
from libs.common.contracts import MailboxChanged
from libs.common.errors import ContractError

log = structlog.get_logger("libs.common.broker")

#: How long one read of the socket may block (the stop signal is looked at in between).
TICK_S = 0.5
#: Wait before connecting again after the broker went away.
RECONNECT_S = 1.0


class HintListener:
    """``run(stop)`` calls ``on_hint`` with every hint until ``stop`` is set; ``ready`` is set
    once the queue is bound (a hint published after it is heard)."""

    def __init__(
        self,
        connect: Callable[[], Connection],
        names: Names,
        on_hint: Callable[[MailboxChanged], None],
    ) -> None:
        self._connect, self._names, self._on_hint = connect, names, on_hint
        self.queue_name = names.fetcher_hints(uuid.uuid4().hex[:12])
        self.ready = threading.Event()

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            conn = self._connect()
            try:
                open_connection(conn)
                self._listen(conn, stop)
            except Exception as exc:  # the broker went away: connect again, never die
                self.ready.clear()
                log.warning("hint listener lost the broker", error=type(exc).__name__)
                stop.wait(RECONNECT_S)
            finally:
                close_quietly(conn)

    def _listen(self, conn: Connection, stop: threading.Event) -> None:
        exchange = Exchange(self._names.events, type="topic", passive=True)
        queue = Queue(
            self.queue_name,
            exchange,
            routing_key=self._names.hints_binding,
            exclusive=True,
            auto_delete=True,
            durable=False,
        )
        with Consumer(conn, [queue], callbacks=[self._received], no_ack=True):
            self.ready.set()
            while not stop.is_set():
                try:
                    conn.drain_events(timeout=TICK_S)
                except TimeoutError:
                    continue

    def _received(self, body: object, message: Message) -> None:
        try:
            hint = MailboxChanged.from_json(message.body)
        except ContractError as exc:  # not ours to dead-letter: a hint is dropped
            log.warning("hint unreadable", error=str(exc))
            return
        try:
            self._on_hint(hint)
        except Exception:  # a hint's handler never stops the listener
            log.exception("hint handling failed", mailbox=hint.mailbox)
