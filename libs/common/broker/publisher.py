"""Confirmed, mandatory publishing on one channel (:class:`Outlet`) and the process-wide,
thread-safe, reconnecting :class:`Publisher` built on it."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from amqp.exceptions import AMQPError, MessageNacked, NotFound
from kombu import Connection, Producer
from kombu.exceptions import OperationalError

from libs.common.broker.confirms import Confirms
from libs.common.broker.frames import write_publishes
from libs.common.broker.policy import backoff_s, truncate
from libs.common.broker.wire import CONTENT_TYPE, PERSISTENT
from libs.common.contracts import Contract
from libs.common.errors import BrokerError, UnroutableError

log = structlog.get_logger("libs.common.broker")


#: Errors after which a fresh connection may succeed. A wrong password lands here too
#: (AccessRefused); it surfaces as BrokerError after the bounded retries.
RECOVERABLE: tuple[type[BaseException], ...] = (
    OSError,
    AMQPError,
    MessageNacked,
    OperationalError,
)


def properties_for(message: Contract, correlation_id: str) -> dict[str, Any]:
    """AMQP properties of a new message: a fresh ``message_id``, the schema as ``type``."""
    return {
        "message_id": uuid.uuid4().hex,
        "correlation_id": correlation_id,
        "type": message.SCHEMA,
        "content_type": CONTENT_TYPE,
        "content_encoding": "utf-8",
        "delivery_mode": PERSISTENT,
    }


@dataclass(frozen=True)
class Outgoing:
    """One message of a pipelined :meth:`Outlet.send_many`."""

    exchange: str
    routing_key: str
    body: bytes
    properties: Mapping[str, Any]
    headers: Mapping[str, Any] = field(default_factory=dict)
    mandatory: bool = True


class Outlet:
    """Publishing on one channel. Not thread-safe: use it on the channel's own thread.

    With ``confirm_publish`` on the connection, each publish waits for the broker's confirm.
    A ``mandatory`` message that matches no queue comes back as basic.return before that
    confirm, so it is known when ``send`` returns. kombu's ``memory://`` transport has neither
    confirms nor returns; there the bindings are looked up first.
    """

    def __init__(self, channel: Any, *, memory: bool, confirm_timeout_s: float) -> None:
        self._channel = channel
        self._memory = memory
        self._confirm_timeout_s = confirm_timeout_s
        self._producer = Producer(channel, auto_declare=False)
        self._returned: list[tuple[str, str]] = []
        #: False once the broker closed the channel (e.g. a missing exchange).
        self.usable = True
        self._confirms: Confirms | None = None
        if not memory:  # the memory transport's ``events`` is shared by all its channels
            channel.events["basic_return"].add(self._on_return)
            self._confirms = Confirms(channel)

    def _on_return(self, exc: Any, exchange: str, routing_key: str, message: Any) -> None:
        self._returned.append((exchange, routing_key))

    def send(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        properties: Mapping[str, Any],
        headers: Mapping[str, Any],
        *,
        mandatory: bool,
    ) -> None:
        if self._memory and mandatory and exchange and not self._routable(exchange, routing_key):
            raise _unroutable(exchange, routing_key)
        self._returned.clear()
        try:
            self._producer.publish(
                body,
                exchange=exchange,
                routing_key=routing_key,
                mandatory=mandatory,
                headers=dict(headers),
                confirm_timeout=self._confirm_timeout_s,
                retry=False,
                **properties,
            )
        except NotFound:
            raise self._missing_exchange(exchange) from None
        if self._confirms is not None:
            self._confirms.sent()
        if self._returned:
            raise _unroutable(exchange, routing_key)

    def send_many(self, items: Sequence[Outgoing]) -> None:
        """Publish every item, then wait once for all their confirms (one round trip for the
        batch). Raises :class:`UnroutableError` when any mandatory item matched no queue:
        the caller cannot tell which, and treats the batch as not sent."""
        if self._confirms is None:  # memory://: no confirms to wait for
            for item in items:
                self.send(
                    item.exchange,
                    item.routing_key,
                    item.body,
                    item.properties,
                    item.headers,
                    mandatory=item.mandatory,
                )
            return
        confirms = self._confirms
        confirms.select()
        self._returned.clear()
        try:
            write_publishes(
                self._channel,
                ((self._prepare(i), i.exchange, i.routing_key, i.mandatory) for i in items),
                lambda: confirms.owe(confirms.sent()),
            )
            confirms.wait(self._confirm_timeout_s)
        except NotFound:
            raise self._missing_exchange(items[0].exchange) from None
        if self._returned:
            raise _unroutable(*self._returned[0])

    def _prepare(self, item: Outgoing) -> Any:
        properties = dict(item.properties)
        content_type = properties.pop("content_type", None)
        content_encoding = properties.pop("content_encoding", None)
        return self._channel.prepare_message(
            item.body, None, content_type, content_encoding, dict(item.headers), properties
        )

    def _missing_exchange(self, exchange: str) -> UnroutableError:
        self.usable = False
        return UnroutableError(
            f"exchange {exchange!r} does not exist",
            hint="start a mailpipe service in this namespace once (each creates the queues "
            "at start), or fix MAILPIPE_NAMESPACE",
        )

    def _routable(self, exchange: str, routing_key: str) -> bool:
        # kombu's virtual transports keep bindings in-process; an empty lookup means no queue.
        return bool(self._channel._lookup(exchange, routing_key))


def _unroutable(exchange: str, routing_key: str) -> UnroutableError:
    return UnroutableError(
        f"no queue is bound to exchange {exchange!r} for routing key {routing_key!r}",
        hint="check the routing key, and that the topology is declared in this namespace",
    )


class Publisher:
    """One publishing connection per process, shared by every thread under a lock.

    The connection has no AMQP heartbeat: nobody would service it between publishes, and the
    broker would close an idle one. A dead connection shows up on the next publish (a socket
    error, or a confirm that does not come within ``confirm_timeout_s``); the publish then
    reconnects and tries again, ``retries`` times, before raising :class:`BrokerError`.
    A message whose confirm was lost may be published twice: consumers are idempotent.
    """

    def __init__(
        self,
        connect: Callable[[], Connection],
        *,
        memory: bool,
        retries: int = 3,
        confirm_timeout_s: float = 30.0,
        max_backoff_s: float = 5.0,
    ) -> None:
        self._connect = connect
        self._memory = memory
        self._retries = retries
        self._confirm_timeout_s = confirm_timeout_s
        self._max_backoff_s = max_backoff_s
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._outlet: Outlet | None = None

    def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        properties: Mapping[str, Any],
        headers: Mapping[str, Any],
        *,
        mandatory: bool,
    ) -> None:
        self._run(
            exchange,
            lambda outlet: outlet.send(
                exchange, routing_key, body, properties, headers, mandatory=mandatory
            ),
        )

    def publish_many(self, items: Sequence[Outgoing]) -> None:
        """Publish ``items`` pipelined and wait for every confirm once (see
        :meth:`Outlet.send_many`). A retry after a lost connection sends them all again."""
        if items:
            self._run(items[0].exchange, lambda outlet: outlet.send_many(items))

    def _run(self, exchange: str, send: Callable[[Outlet], None]) -> None:
        with self._lock:
            last: BaseException | None = None
            for attempt in range(1, self._retries + 2):
                try:
                    send(self._ensure())
                    return
                except UnroutableError:
                    if self._outlet is not None and not self._outlet.usable:
                        self._reset()
                    raise
                except RECOVERABLE as exc:
                    last = exc
                    self._reset()
                    log.warning(
                        "publish failed; reconnecting",
                        exchange=exchange,
                        attempt=attempt,
                        error=_describe(exc),
                    )
                    if attempt <= self._retries:
                        time.sleep(backoff_s(attempt, base_s=0.2, cap_s=self._max_backoff_s))
            raise BrokerError(
                f"could not publish to {exchange!r} after {self._retries + 1} attempts: "
                f"{_describe(last)}",
                hint="check MAILPIPE_AMQP_URL (host, user, vhost) and that RabbitMQ runs",
            )

    def _ensure(self) -> Outlet:
        if self._outlet is None:
            conn = self._connect()
            self._conn = conn
            open_connection(conn)
            self._outlet = Outlet(
                conn.channel(), memory=self._memory, confirm_timeout_s=self._confirm_timeout_s
            )
        return self._outlet

    def _reset(self) -> None:
        conn, self._conn, self._outlet = self._conn, None, None
        if conn is not None:
            close_quietly(conn)

    def close(self) -> None:
        with self._lock:
            self._reset()


def open_connection(conn: Connection) -> None:
    """Connect once; our callers own the retry policy (kombu's ``connect()`` would also retry
    once after sleeping two seconds)."""
    conn.ensure_connection(max_retries=0, reraise_as_library_errors=False)


def close_quietly(conn: Connection) -> None:
    """Close a connection that may already be dead; there is nothing to do if that fails."""
    try:
        conn.release()
    except Exception as exc:  # a dead socket: the broker has dropped it already
        log.debug("closing a broken connection failed", error=_describe(exc))


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    return truncate(f"{type(exc).__name__}: {exc}", 300)
