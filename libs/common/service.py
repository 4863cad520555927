"""What every service does at start: settings, logging, broker, health, signals.

Every service has the same shape: its ``app.py`` has a ``wire(runtime) -> Wiring`` (its loops,
readiness checks and a cleanup) and a ``main()`` that is ``run_service("<name>", wire)``. The
embedded mode (``mailpipe/embedded.py``) passes the same ``wire`` functions, with the same
names, to :func:`wire_service` on one shared :class:`Runtime`. What every service needs once
is here: the service name in the log context of its loops (:func:`wire_service`), the database
readiness check (:func:`database_check`), the :data:`Loop` type, and the integration watcher
(``MAILPIPE_CONFIG_SOURCE=database``): ``runtime.watcher`` runs on a thread of its own once the
loops start, ``runtime.config`` follows it, and a ``wire`` subscribes whatever of its service
must follow a change (:mod:`libs.common.config_watch`). Nothing here runs at import time.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TextIO

import structlog

from libs.common.broker import Broker, Names, install_signal_handlers
from libs.common.config_source import service_config, watcher
from libs.common.config_watch import ConfigChange, ConfigWatcher
from libs.common.health import Check, HealthServer
from libs.common.logging import configure_logging
from libs.common.settings import MailpipeConfig, Settings
from libs.common.startup import broker_failure

log = structlog.get_logger(__name__)

#: A long-running piece of a service, ``(thread name, function)``; the function returns once
#: the runtime's ``stop`` is set.
Loop = tuple[str, Callable[[], None]]

#: How long a readiness answer about the broker is reused (a probe every second must not
#: open a connection every second).
_READY_CACHE_S = 5.0


@dataclass
class Runtime:
    """The pieces a service is wired from."""

    name: str
    settings: Settings
    config: MailpipeConfig
    broker: Broker
    stop: threading.Event
    health: HealthServer | None = None
    threads: list[threading.Thread] = field(default_factory=list)
    #: Set once the topology is declared and the consumer loops run.
    started: threading.Event = field(default_factory=threading.Event)
    #: Picks up integration changes (``MAILPIPE_CONFIG_SOURCE=database``); ``config`` follows
    #: it, and a service's wiring subscribes what must change with it.
    watcher: ConfigWatcher | None = None
    close_watcher: Callable[[], None] = lambda: None

    @property
    def names(self) -> Names:
        return self.broker.names


@dataclass
class Wiring:
    """What one service adds to a runtime: its threads, its readiness checks, its cleanup."""

    loops: list[Loop]
    checks: dict[str, Check] = field(default_factory=dict)
    #: Closes the service's own adapters (Graph clients, database pools); called once, after
    #: every loop has returned.
    close: Callable[[], None] = lambda: None


#: A service's composition: its adapters and loops built on a runtime.
Wire = Callable[[Runtime], Wiring]


def run_service(name: str, wire: Wire) -> int:
    """The distributed service ``name``: bootstrap, wire, run until SIGTERM/SIGINT."""
    runtime = bootstrap(name)
    return run_wired(runtime, [wire_service(name, wire, runtime)])


def wire_service(name: str, wire: Wire, runtime: Runtime) -> Wiring:
    """``wire(runtime)`` as service ``name``: what it logs, and every line its loops log, say
    ``service=name``. Threads do not inherit context variables, so each loop runs in its own
    copy of the context ``wire`` ran in; the caller's context is left as it was."""
    context = contextvars.copy_context()
    context.run(structlog.contextvars.bind_contextvars, service=name)
    wiring = context.run(wire, runtime)
    loops: list[Loop] = [
        (thread, partial(context.copy().run, loop)) for thread, loop in wiring.loops
    ]
    return dataclasses.replace(wiring, loops=loops)


def database_check(ping: Callable[[], object]) -> Check:
    """Readiness: ready while ``ping`` answers (a service without its database must not take
    work). Any failure means "not ready"; the probe itself never raises."""

    def check() -> tuple[bool, str]:
        try:
            ping()
        except Exception as exc:  # the reason is the answer, not an error of the probe
            return False, f"database unavailable: {exc.__class__.__name__}"
        return True, "connected"

    return check


def bootstrap(
    name: str, settings: Settings | None = None, *, log_stream: TextIO | None = None
) -> Runtime:
    """Read settings and config (a mistake, or no mailbox at all, raises ConfigError; with
    ``MAILPIPE_CONFIG_SOURCE=database`` it waits for the first integration), log, and build
    the broker.

    Logs go to stdout, or to ``log_stream`` (the demo keeps the terminal for its own output).
    """
    settings = settings or Settings()
    if log_stream is None:
        configure_logging(name, settings.log_level)
    else:
        # configure_logging binds its handlers to whatever sys.stdout is at that moment.
        with contextlib.redirect_stdout(log_stream):
            configure_logging(name, settings.log_level)
    config = service_config(settings)
    broker = Broker(
        settings.amqp_url.get_secret_value(),
        Names(settings.namespace),
        heartbeat_s=settings.heartbeat_s,
        prefetch=settings.prefetch,
        publish_previous=settings.publish_previous_contracts,
    )
    stop = threading.Event()
    runtime = Runtime(name, settings, config, broker, stop)
    _watch(runtime)
    if settings.health_port is not None:
        runtime.health = HealthServer(settings.health_port)
        runtime.health.add_check("started", _started_check(runtime))
        runtime.health.add_check("broker", _broker_check(broker))
        runtime.health.start()
    log.info(
        "starting",
        namespace=settings.namespace,
        mailboxes=[box.address for box in config.mailboxes],
        broker=repr(broker),
    )
    return runtime


def _watch(runtime: Runtime) -> None:
    """The runtime's watcher (database source): ``runtime.config`` follows it first."""
    runtime.watcher, runtime.close_watcher = watcher(runtime.settings, runtime.config)
    if runtime.watcher is not None:
        runtime.watcher.subscribe(partial(_follow, runtime))


def _follow(runtime: Runtime, config: MailpipeConfig, change: ConfigChange) -> None:
    runtime.config = config


def _started_check(runtime: Runtime) -> Callable[[], tuple[bool, str]]:
    def check() -> tuple[bool, str]:
        if runtime.stop.is_set():
            return False, "stopping"
        return (True, "running") if runtime.started.is_set() else (False, "starting")

    return check


def _broker_check(broker: Broker) -> Callable[[], tuple[bool, str]]:
    cache: dict[str, tuple[float, tuple[bool, str]]] = {}

    def check() -> tuple[bool, str]:
        now = time.monotonic()
        if "last" in cache and now - cache["last"][0] < _READY_CACHE_S:
            return cache["last"][1]
        try:
            broker.message_count(broker.names.ticketer.name)
            answer = (True, "connected")
        except Exception as exc:  # any failure means "not ready"; the reason is logged, not raised
            answer = (False, f"broker unavailable: {exc.__class__.__name__}")
        cache["last"] = (now, answer)
        return answer

    return check


def run_consumers(runtime: Runtime, loops: Sequence[Loop]) -> int:
    """Run each consumer loop on its own thread until SIGTERM/SIGINT, then drain and return 0.

    With no loops the service just waits for the signal (a service that only declares).
    """
    install_signal_handlers(runtime.stop)
    start_loops(runtime, loops)
    runtime.stop.wait()
    drain(runtime)
    return 0


def run_wired(runtime: Runtime, wirings: Sequence[Wiring]) -> int:
    """Add the wirings' checks, run their loops until SIGTERM/SIGINT, then close them."""
    add_checks(runtime, wirings)
    try:
        return run_consumers(runtime, [loop for w in wirings for loop in w.loops])
    finally:
        close_wirings(wirings)


def add_checks(runtime: Runtime, wirings: Sequence[Wiring]) -> None:
    if runtime.health is None:
        return
    for wiring in wirings:
        for name, check in wiring.checks.items():
            runtime.health.add_check(name, check)


def close_wirings(wirings: Sequence[Wiring]) -> None:
    """Close each wiring, later ones first (they may use what earlier ones opened)."""
    for wiring in reversed(wirings):
        try:
            wiring.close()
        except Exception:  # one failed cleanup must not keep the others from running
            log.exception("cleanup failed")


def start_loops(runtime: Runtime, loops: Sequence[Loop]) -> None:
    """Declare the topology and start one (non-daemon) thread per loop; does not wait.

    Each loop carries its service's log context (:func:`wire_service`)."""
    declare_topology(runtime)
    log.info("topology declared", namespace=runtime.names.namespace)
    for thread_name, loop in loops:
        thread = threading.Thread(target=loop, name=thread_name, daemon=False)
        thread.start()
        runtime.threads.append(thread)
    if runtime.watcher is not None:
        _start_watcher(runtime, runtime.watcher)
    runtime.started.set()
    log.info("running", consumers=[name for name, _ in loops])


def _start_watcher(runtime: Runtime, config_watcher: ConfigWatcher) -> None:
    """Integration changes within one poll interval (libs.common.config_watch)."""
    thread = threading.Thread(
        target=config_watcher.run, args=(runtime.stop,), name="config-watch", daemon=False
    )
    thread.start()
    runtime.threads.append(thread)


def declare_topology(runtime: Runtime) -> None:
    """Declare the namespace's queues; a broker that is down or refuses us is one typed error
    in the user's terms (the first thing a service does with the broker is this)."""
    try:
        runtime.broker.declare()
    except Exception as exc:  # mapped once here; see libs.common.startup
        raise broker_failure(
            exc, runtime.settings.amqp_url.get_secret_value(), runtime.names.namespace
        ) from None


def drain(runtime: Runtime) -> None:
    """Set ``stop``, let every loop finish the messages in hand, close the broker and health."""
    runtime.stop.set()
    log.info("stopping: finishing the messages in hand")
    for thread in runtime.threads:
        thread.join()
    runtime.broker.close()
    runtime.close_watcher()
    if runtime.health is not None:
        runtime.health.stop()
    log.info("stopped")
