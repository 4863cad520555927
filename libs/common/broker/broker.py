"""``Broker``: the one broker abstraction of a process (see docs/broker.md).

Built from an AMQP URL and a :class:`Names`; works over RabbitMQ (``amqp://``, ``amqps://``)
and over kombu's in-process ``memory://`` transport (the embedded mode, all services in one
process). Nothing connects before the first ``declare``, ``publish`` or ``consume``.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
from collections.abc import Mapping, Sequence
from types import FrameType, TracebackType
from typing import Any, TypeVar

from kombu import Connection

from libs.common.broker import topology
from libs.common.broker.batch import BatchHandler, BatchSettings, Handler, single
from libs.common.broker.consumer import ConsumerLoop, DeadHook, InvalidHook, LoopSettings
from libs.common.broker.names import Names, WorkQueue
from libs.common.broker.publisher import (
    Outgoing,
    Publisher,
    close_quietly,
    open_connection,
    properties_for,
)
from libs.common.broker.routes import Publication, route
from libs.common.contracts import Contract
from libs.common.errors import ConfigError
from libs.common.redact import redact_url

C = TypeVar("C", bound=Contract)

#: kombu's virtual transports poll; 50 ms keeps the embedded mode responsive at little cost.
MEMORY_POLL_S = 0.05


def _checked_scheme(url: str, prefetch: int) -> str:
    """The URL's scheme, once the URL and ``prefetch`` are known to be usable."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in ("amqp", "amqps", "pyamqp", "memory"):
        raise ConfigError(
            f"unsupported broker URL {redact_url(url)!r}",
            hint="set MAILPIPE_AMQP_URL to an amqp:// or amqps:// URL of RabbitMQ, or memory://",
        )
    if prefetch < 1:
        raise ConfigError("prefetch must be at least 1", hint="set a positive prefetch")
    return scheme


class Broker:
    """Publish contracts and consume work queues of one namespace.

    ``heartbeat_s`` applies to consumer connections (0 turns heartbeats off); ``prefetch`` is
    the per-consumer QoS. Publishing is thread-safe; each ``consume`` call runs its own loop
    on the calling thread, so several work queues need several threads.
    """

    def __init__(
        self,
        url: str,
        names: Names | None = None,
        *,
        heartbeat_s: float = 30.0,
        prefetch: int = 10,
        publish_retries: int = 3,
        confirm_timeout_s: float = 30.0,
        connect_timeout_s: float = 10.0,
        max_backoff_s: float = 30.0,
        publish_previous: bool = False,
    ) -> None:
        self._url = url
        self.names = names or Names()
        self.memory = _checked_scheme(url, prefetch) == "memory"
        self.heartbeat_s = 0.0 if self.memory else heartbeat_s
        self.prefetch = prefetch
        #: During a rolling upgrade: each contract published in its previous version where it
        #: can be said in it, for consumers not yet upgraded (docs/deployment.md, "Upgrading").
        self.publish_previous = publish_previous
        self._connect_timeout_s = connect_timeout_s
        self._loop_settings = LoopSettings(
            prefetch=prefetch,
            memory=self.memory,
            confirm_timeout_s=confirm_timeout_s,
            max_backoff_s=max_backoff_s,
        )
        self._publisher = Publisher(
            self.connection,
            memory=self.memory,
            retries=publish_retries,
            confirm_timeout_s=confirm_timeout_s,
        )

    def __repr__(self) -> str:
        return f"Broker({redact_url(self._url)!r}, namespace={self.names.namespace!r})"

    def connection(self, heartbeat_s: float = 0.0) -> Connection:
        """A new, not yet connected kombu connection with publisher confirms on."""
        options: dict[str, Any] = {"confirm_publish": True}
        if self.memory:
            options = {"polling_interval": MEMORY_POLL_S}
        return Connection(
            self._url,
            heartbeat=heartbeat_s,
            connect_timeout=self._connect_timeout_s,
            transport_options=options,
        )

    def declare(self) -> None:
        """Declare the namespace's exchanges and queues (idempotent)."""
        self._with_channel(lambda channel: topology.declare(channel, self.names))

    def delete(self) -> None:
        """Delete every queue and exchange of the namespace, messages included."""
        self._with_channel(lambda channel: topology.delete(channel, self.names))

    def message_count(self, queue: str) -> int:
        """Ready messages in ``queue`` (unacked ones not counted)."""
        counts: list[int] = []
        self._with_channel(
            lambda channel: counts.append(channel.queue_declare(queue=queue, passive=True)[1])
        )
        return counts[0]

    def _with_channel(self, work: Any) -> None:
        conn = self.connection()
        try:
            open_connection(conn)
            work(conn.channel())
        finally:
            close_quietly(conn)

    def publish(
        self,
        exchange: str,
        routing_key: str,
        message: Contract,
        *,
        correlation_id: str,
        mandatory: bool = True,
        headers: Mapping[str, Any] | None = None,
    ) -> str:
        """Publish and wait for the broker's confirm; return the new ``message_id``.

        Raises :class:`UnroutableError` when ``mandatory`` and no queue matched, and
        :class:`BrokerError` when the broker stayed unreachable through the retries.
        """
        message = self._on_the_wire(message)
        properties = properties_for(message, correlation_id)
        self._publisher.publish(
            exchange, routing_key, message.to_json(), properties, headers or {}, mandatory=mandatory
        )
        return str(properties["message_id"])

    def _on_the_wire(self, message: Contract) -> Contract:
        return (self.publish_previous and message.downgrade()) or message

    def publish_routed(
        self, message: Contract, *, correlation_id: str, headers: Mapping[str, Any] | None = None
    ) -> str:
        """:meth:`publish` on the message's route (:mod:`libs.common.broker.routes`)."""
        where = route(self.names, message)
        return self.publish(
            where.exchange,
            where.routing_key,
            message,
            correlation_id=correlation_id,
            mandatory=where.mandatory,
            headers=headers,
        )

    def publish_many(self, publications: Sequence[Publication]) -> list[str]:
        """Publish all, pipelined, and wait once for every confirm; their ``message_id``s.

        One broker round trip for the lot instead of one per message. Raises like
        :meth:`publish`; on a raise, treat every message as not published (some may have
        been: consumers are idempotent).
        """
        items = []
        for pub in publications:
            message = self._on_the_wire(pub.message)
            properties = properties_for(message, pub.correlation_id)
            items.append(
                Outgoing(
                    pub.exchange,
                    pub.routing_key,
                    message.to_json(),
                    properties,
                    pub.headers or {},
                    pub.mandatory,
                )
            )
        self._publisher.publish_many(items)
        return [str(item.properties["message_id"]) for item in items]

    def consume(
        self,
        queue: WorkQueue,
        contract: type[C],
        handler: Handler[C],
        *,
        stop: threading.Event,
        on_invalid: InvalidHook | None = None,
        on_dead: DeadHook[C] | None = None,
    ) -> None:
        """Consume ``queue`` on this thread until ``stop`` is set (see consumer.py).

        ``on_invalid`` sees messages that fail their contract; ``on_dead`` sees valid ones
        about to be dead-lettered. Both run before the message goes to the dead-letter queue.
        """
        ConsumerLoop(
            lambda: self.connection(self.heartbeat_s),
            self._loop_settings,
            queue,
            contract,
            single(handler),
            stop,
            on_invalid,
            on_dead,
        ).run()

    def consume_batch(
        self,
        queue: WorkQueue,
        contract: type[C],
        handler: BatchHandler[C],
        *,
        stop: threading.Event,
        max_batch: int = 20,
        max_wait_s: float = 0.25,
        workers: int = 1,
        on_invalid: InvalidHook | None = None,
        on_dead: DeadHook[C] | None = None,
    ) -> None:
        """Like :meth:`consume`, but ``handler(items)`` gets up to ``max_batch`` messages at
        once and returns one result per item, in order (``None``: done; an exception: that
        item is retried or dead-lettered as in :meth:`consume`).

        A batch starts when ``max_batch`` messages are in hand or ``max_wait_s`` after the
        first arrived. Invalid messages are dead-lettered on their own and never reach the
        handler; a handler that raises fails every item of the batch.

        ``workers`` batches are handled at once, each on its own thread (the handler must be
        thread-safe then): while one waits (for the broker's confirms, say), the next runs.
        Prefetch is raised to ``(workers + 1) * max_batch`` when lower, so that a full batch
        is waiting whenever a worker comes free.
        """
        batch = BatchSettings(max_batch=max_batch, max_wait_s=max_wait_s, workers=workers)
        ConsumerLoop(
            lambda: self.connection(self.heartbeat_s),
            self._batch_loop_settings(batch),
            queue,
            contract,
            handler,
            stop,
            on_invalid,
            on_dead,
            batch,
        ).run()

    def _batch_loop_settings(self, batch: BatchSettings) -> LoopSettings:
        """The loop settings with prefetch raised to ``(workers + 1) * max_batch`` when lower."""
        wanted = (batch.workers + 1) * batch.max_batch
        if self._loop_settings.prefetch < wanted:
            return dataclasses.replace(self._loop_settings, prefetch=wanted)
        return self._loop_settings

    def close(self) -> None:
        self._publisher.close()

    def __enter__(self) -> Broker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def install_signal_handlers(
    stop: threading.Event, signals: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT)
) -> None:
    """Make SIGTERM and SIGINT set ``stop`` (call from the main thread).

    The event is set from a short-lived thread: a signal handler runs between two bytecodes
    of the main thread, which may hold the event's own lock at that moment.
    """

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=stop.set, name="stop", daemon=True).start()

    for sig in signals:
        signal.signal(sig, _on_signal)
