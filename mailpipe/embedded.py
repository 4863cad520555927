"""Embedded mode: fetcher, ticketer and sender in one process (``mailpipe run``, the demo).

The three services are wired by their own ``wire(runtime)`` functions under their own names
(:func:`~libs.common.service.wire_service`), exactly as their ``main()`` does, on one shared
runtime: one Broker (kombu's ``memory://`` keeps its queues in
this process, so every service must publish and consume through the same object), one health
server. Only the transport differs from the distributed mode, and with it three things:

- **Start**: the queues start empty, so mail published before a crash but never recorded
  would be skipped by the saved delta links. The delta links are therefore forgotten at start
  and the first poll reads each folder in full; the ticketer's idempotency turns mail it has
  already recorded into a repeated ``ProcessedEmail``, and the fetcher removes it.
- **Stop**: what is still queued in memory is gone when the process ends. So a stop first ends
  the intake (pollers and the processed consumer), lets the ticketer and the sender empty
  their queues (bounded by ``drain_timeout_s``), and only then stops them. Processed mail whose
  removal was not done yet stays in the mailbox and is removed after the next start.
- **Jobs**: an outbound job queued in memory is gone with the process, so the ticketer's jobs
  (acknowledgements, and what ``mailpipe send`` writes to the database) live in the outbox
  table until the sender answers; at start every unanswered one is published at once
  (services/ticketer/relay.py), and the sender's job log sends none twice.

    embedded = start_embedded(settings)        # threads running, returns at once
    ...
    embedded.stop()                             # drain, close

or ``run_embedded(settings)``: the same, until SIGTERM/SIGINT, then 0.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass
from typing import TextIO

import structlog
from pydantic import SecretStr

from libs.common.broker import install_signal_handlers
from libs.common.redact import redact_url
from libs.common.service import (
    Runtime,
    Wire,
    Wiring,
    add_checks,
    bootstrap,
    close_wirings,
    drain,
    start_loops,
    wire_service,
)
from libs.common.settings import Settings

log = structlog.get_logger(__name__)

#: The broker of the embedded mode: kombu's in-process transport (DESIGN.md "Run modes": the
#: file and SQL transports lose messages, so memory:// in one process is the only option).
MEMORY_URL = "memory://"


#: How long a stop waits for the ticketer and the sender to empty their queues.
DRAIN_TIMEOUT_S = 30.0
#: Queues must read empty this many times in a row (a handler may be publishing the next hop).
_QUIET_CHECKS = 3
_QUIET_INTERVAL_S = 0.2


def embedded_settings(settings: Settings, broker_url: str = MEMORY_URL) -> Settings:
    """``settings`` with the embedded broker; MAILPIPE_AMQP_URL is not used by ``run``.

    A deployment's environment often names a RabbitMQ for the distributed services; ``run``
    must not start depending on it silently. ``--broker-url`` is the explicit way to do so.
    """
    return settings.model_copy(update={"amqp_url": SecretStr(broker_url)})


def services(*, pushed: bool = False) -> list[tuple[str, Wire]]:
    """Each service's name and ``wire``, in the order they are wired: the fetcher last; any
    order would do, since ``start_loops`` declares the whole topology before the first thread
    starts. ``pushed`` (``[push]`` configured): the notification endpoint too
    (docs/push.md). Imported here, not at the top: ``mailpipe --help`` loads none of them."""
    from services.fetcher.app import wire as fetcher
    from services.notify.app import wire as notify
    from services.sender.app import wire as sender
    from services.ticketer.app import wire as ticketer

    endpoint: list[tuple[str, Wire]] = [("notify", notify)] if pushed else []
    return [("ticketer", ticketer), ("sender", sender), *endpoint, ("fetcher", fetcher)]


@dataclass
class Embedded:
    """The running pipeline: the shared runtime, the intake's stop event, the wirings."""

    runtime: Runtime
    #: Stops the fetcher (pollers and processed consumer) before the rest.
    intake_stop: threading.Event
    wirings: list[Wiring]
    drain_timeout_s: float = DRAIN_TIMEOUT_S

    def stop(self) -> None:
        """End the intake, let the queues empty, stop every thread, close every adapter."""
        try:
            self.intake_stop.set()
            if self.runtime.started.is_set():
                self._wait_for_quiet_queues()
            drain(self.runtime)
        finally:
            close_wirings(self.wirings)

    def _wait_for_quiet_queues(self) -> None:
        names = self.runtime.names
        queues = [
            names.ticketer.name,
            names.ticketer_results.name,
            names.ticketer_quarantine.name,
            names.sender.name,
        ]
        deadline = time.monotonic() + self.drain_timeout_s
        quiet = 0
        left: dict[str, int] = {}
        while quiet < _QUIET_CHECKS and time.monotonic() < deadline:
            left = {q: self.runtime.broker.message_count(q) for q in queues}
            quiet = quiet + 1 if not any(left.values()) else 0
            time.sleep(_QUIET_INTERVAL_S)
        if quiet < _QUIET_CHECKS:
            log.warning(
                "stopping with messages still queued in memory; they are lost",
                queued=left,
                hint="mail not yet recorded is read again after the next start, and outbox "
                "jobs the sender has not answered are published again then",
            )


def start_embedded(
    settings: Settings,
    *,
    log_stream: TextIO | None = None,
    signals: threading.Event | None = None,
) -> Embedded:
    """Bootstrap one runtime, wire the three services on it, start their threads.

    ``signals``: an event SIGTERM/SIGINT will set (installed first, from the main thread).
    """
    runtime = bootstrap("mailpipe", settings, log_stream=log_stream)
    if signals is not None:
        install_signal_handlers(signals)
    log.info(
        "embedded mode: fetcher, ticketer and sender in one process",
        broker=repr(runtime.broker),
        database=redact_url(settings.database_url.get_secret_value()),
    )
    # The fetcher's loops watch their own event, so that a stop can end the intake first.
    intake = dataclasses.replace(runtime, stop=threading.Event(), threads=[])
    embedded = Embedded(runtime, intake.stop, [])
    try:
        for name, wire in services(pushed=runtime.config.push is not None):
            if name == "fetcher":
                forget_cursors(runtime)
            target = intake if name == "fetcher" else runtime
            embedded.wirings.append(wire_service(name, wire, target))
        add_checks(runtime, embedded.wirings)
        start_loops(runtime, [loop for wiring in embedded.wirings for loop in wiring.loops])
    except BaseException:
        embedded.stop()
        raise
    return embedded


def forget_cursors(runtime: Runtime) -> None:
    """Make the first poll of every mailbox read its folder in full (see the module doc)."""
    from services.fetcher.state import MailCursors

    state = MailCursors.open(runtime.settings.database_url.get_secret_value())
    try:
        for box in runtime.config.mailboxes:
            state.clear_cursor(box.address, box.folder)
    finally:
        state.close()
    log.info("delta links reset: the first poll reads each folder in full")


def run_embedded(settings: Settings) -> int:
    """Run the embedded pipeline until SIGTERM/SIGINT, then drain and return 0."""
    shutdown = threading.Event()
    embedded = start_embedded(settings, signals=shutdown)
    shutdown.wait()
    embedded.stop()
    return 0
