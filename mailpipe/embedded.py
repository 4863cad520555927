"""Embedded mode: fetcher, ticketer and sender in one process (``mailpipe run``, the demo).

The three services are wired by their own ``wire(runtime)`` functions, exactly as their
``main()`` does, on ONE shared :class:`Runtime`: one Broker (kombu's ``memory://`` keeps its
queues in this process, so every service must publish and consume through the same process),
one stop event, one health server. Only the transport differs from the distributed mode.

    embedded = start_embedded(settings)        # threads running, returns at once
    ...
    embedded.stop()                             # drain, close, like SIGTERM does

or ``run_embedded(settings)``: the same, until SIGTERM/SIGINT, then 0.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

import structlog
from pydantic import SecretStr

from libs.common.broker import install_signal_handlers
from libs.common.service import (
    Runtime,
    Wiring,
    add_checks,
    bootstrap,
    close_wirings,
    drain,
    start_loops,
)
from libs.common.settings import Settings

log = structlog.get_logger(__name__)

#: The broker of the embedded mode: kombu's in-process transport (DESIGN.md "Run modes": the
#: file and SQL transports lose messages, so memory:// in one process is the only option).
MEMORY_URL = "memory://"

#: Wired in this order, the fetcher last; any order would do, since ``start_loops`` declares
#: the whole topology before the first thread starts.
SERVICES = ("ticketer", "sender", "fetcher")


def embedded_settings(settings: Settings, broker_url: str = MEMORY_URL) -> Settings:
    """``settings`` with the embedded broker; MAILPIPE_AMQP_URL is not used by ``run``.

    A deployment's environment often names a RabbitMQ for the distributed services; ``run``
    must not start depending on it silently. ``--broker-url`` is the explicit way to do so.
    """
    return settings.model_copy(update={"amqp_url": SecretStr(broker_url)})


def _wire_function(service: str) -> Callable[[Runtime], Wiring]:
    module = importlib.import_module(f"services.{service}.app")
    wire: Callable[[Runtime], Wiring] = module.wire
    return wire


@dataclass
class Embedded:
    """The running pipeline: its runtime and each service's wiring."""

    runtime: Runtime
    wirings: list[Wiring]

    def stop(self) -> None:
        """Finish the messages in hand, stop every thread, close every adapter."""
        try:
            drain(self.runtime)
        finally:
            close_wirings(self.wirings)


def start_embedded(
    settings: Settings, *, log_stream: TextIO | None = None, signals: bool = False
) -> Embedded:
    """Bootstrap one runtime, wire the three services on it, start their threads.

    ``signals`` makes SIGTERM/SIGINT set the runtime's stop event (main thread only).
    """
    runtime = bootstrap("mailpipe", settings, log_stream=log_stream)
    if signals:
        install_signal_handlers(runtime.stop)
    log.info(
        "embedded mode: fetcher, ticketer and sender in one process",
        broker=repr(runtime.broker),
        database=_redacted_database(settings),
    )
    wirings: list[Wiring] = []
    try:
        for service in SERVICES:
            # Each service's loops copy the context they are built in: bind the service's name
            # there, so every log line still says which service wrote it.
            structlog.contextvars.bind_contextvars(service=service)
            wirings.append(_wire_function(service)(runtime))
        structlog.contextvars.bind_contextvars(service="mailpipe")
        add_checks(runtime, wirings)
        start_loops(runtime, [loop for wiring in wirings for loop in wiring.loops])
    except BaseException:
        structlog.contextvars.bind_contextvars(service="mailpipe")
        Embedded(runtime, wirings).stop()
        raise
    return Embedded(runtime, wirings)


def run_embedded(settings: Settings) -> int:
    """Run the embedded pipeline until SIGTERM/SIGINT, then drain and return 0."""
    embedded = start_embedded(settings, signals=True)
    embedded.runtime.stop.wait()
    embedded.stop()
    return 0


def _redacted_database(settings: Settings) -> str:
    from libs.common.redact import redact_url

    return redact_url(settings.database_url.get_secret_value())
