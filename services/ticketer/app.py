"""Wiring of the ticketer: consumes InboundEmail, keeps records, publishes ProcessedEmail.

Consumer loops: ``<ns>.ticketer`` (InboundEmail → :meth:`Ticketer.handle`, with
:meth:`Ticketer.on_dead` quarantining what cannot be handled) and ``<ns>.ticketer.results``
(OutboundResults → :meth:`Ticketer.handle_result`); and the outbox relay
(:mod:`services.ticketer.relay`), which publishes acknowledgements until the sender answers.
Readiness: broker and database.
:func:`wire` builds all of it on a :class:`Runtime`; ``main()`` (the distributed service) and
the embedded mode both use it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import structlog

from libs.common.blobs import open_blobs
from libs.common.contracts import InboundEmail, OutboundResult, QuarantinedEmail
from libs.common.errors import MailpipeError
from libs.common.service import Loop, Runtime, Wiring, database_check, run_service
from libs.common.settings import MailpipeConfig
from services.ticketer.handler import Ticketer
from services.ticketer.metrics import TicketerMetrics
from services.ticketer.ports import Blobs
from services.ticketer.publishing import BrokerOutbox
from services.ticketer.relay import OutboxRelay
from services.ticketer.requesters import FetchUser, RequesterDirectory

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from libs.common.broker import Broker
    from libs.common.mail import DirectoryUser, MailProvider
    from services.ticketer.store import RecordStore

log = structlog.get_logger(__name__)

#: InboundEmails handled per call: their effects are published together, one confirm wait.
#: No batch window: a batch is whatever has arrived when the worker is free, so a lone mail
#: waits for nothing.
INBOUND_BATCH = 20
#: Batches at once: one publishes and waits for its confirms while the next is written.
INBOUND_WORKERS = 2

#: How often the ticketer looks whether its tables need fresh planner statistics.
STATISTICS_EVERY_S = 5.0

#: A requester lookup waits at most this long on throttling: enrichment must not hold a record.
LOOKUP_RETRY_BUDGET_S = 10.0


def user_fetcher(
    config: MailpipeConfig | Callable[[], MailpipeConfig], graphs: MailProvider
) -> FetchUser:
    """``fetch(mailbox, address)`` through that mailbox's app registration (``config``: a
    callable when it follows integration changes)."""

    def fetch(mailbox: str, address: str) -> DirectoryUser:
        current = config() if callable(config) else config
        return graphs(current.mailbox(mailbox)).get_user(address)

    return fetch


def lookup_pool(config: MailpipeConfig) -> MailProvider:
    """Mailboxes for requester lookups: a short retry budget (enrichment must not hold a
    record)."""
    from libs.common.mail import open_provider

    return open_provider(config, retry_budget_s=LOOKUP_RETRY_BUDGET_S)


def build_ticketer(
    store: RecordStore,
    blobs: Blobs,
    broker: Broker,
    config: MailpipeConfig,
    graphs: MailProvider,
    *,
    registry: CollectorRegistry | None = None,
    metrics: TicketerMetrics | None = None,
    current: Callable[[], MailpipeConfig] | None = None,
) -> Ticketer:
    """``current``: the configuration as it changes (the requester lookups follow it)."""
    return Ticketer(
        store,
        blobs,
        BrokerOutbox(broker),
        config,
        requesters=RequesterDirectory(store, user_fetcher(current or config, graphs)),
        metrics=metrics or TicketerMetrics(registry),
    )


def consumer_loops(
    broker: Broker,
    ticketer: Ticketer,
    stop: threading.Event,
    statistics: Callable[[threading.Event], None] | None = None,
) -> list[Loop]:
    names = broker.names

    def inbound() -> None:
        broker.consume_batch(
            names.ticketer,
            InboundEmail,
            ticketer.handle_batch,
            stop=stop,
            max_batch=INBOUND_BATCH,
            max_wait_s=0.0,
            workers=INBOUND_WORKERS,
            on_invalid=ticketer.on_invalid,
            on_dead=ticketer.on_dead,
        )

    def results() -> None:
        broker.consume(names.ticketer_results, OutboundResult, ticketer.handle_result, stop=stop)

    def quarantined() -> None:
        broker.consume(
            names.ticketer_quarantine, QuarantinedEmail, ticketer.handle_quarantined, stop=stop
        )

    loops: list[Loop] = [
        ("ticketer-inbound", inbound),
        ("ticketer-results", results),
        ("ticketer-quarantine", quarantined),
    ]
    if statistics is not None:
        loops.append(("ticketer-statistics", partial(statistics, stop)))
    return loops


def keep_statistics(store: RecordStore, stop: threading.Event) -> None:
    """Every few seconds, ANALYZE what grew (PostgreSQL without autovacuum; elsewhere a cheap
    look at pg_stat_user_tables, or nothing on SQLite). A failure is logged, never fatal."""
    while not stop.wait(STATISTICS_EVERY_S):
        try:
            analyzed = store.refresh_statistics()
        except MailpipeError as exc:
            log.warning("planner statistics not refreshed", error=exc.message)
            continue
        if analyzed:
            log.info("planner statistics refreshed", tables=analyzed)


def wire(runtime: Runtime) -> Wiring:
    """The ticketer on ``runtime``: schema brought up to date, store, handler, both loops."""
    from prometheus_client import REGISTRY

    from services.ticketer.store import RecordStore

    store = RecordStore.open(runtime.settings.database_url.get_secret_value())
    graphs = lookup_pool(runtime.config)

    def config_now() -> MailpipeConfig:
        return runtime.config  # follows the watcher (libs.common.service)

    metrics = TicketerMetrics(REGISTRY)
    blobs = open_blobs(runtime.settings)
    ticketer = build_ticketer(
        store, blobs, runtime.broker, runtime.config, graphs, metrics=metrics, current=config_now
    )
    if runtime.watcher is not None:  # the next mail is judged by the new configuration
        runtime.watcher.subscribe(lambda config, _change: ticketer.use(config))
    relay = OutboxRelay(store, BrokerOutbox(runtime.broker).publish, metrics=metrics)
    if runtime.broker.memory:
        relay.restarted_without_queues()
    # Planner statistics only matter on PostgreSQL (statistics.py).
    statistics = partial(keep_statistics, store) if store.dialect == "postgresql" else None

    def close() -> None:
        graphs.close()
        blobs.close()
        store.close()

    loops = consumer_loops(runtime.broker, ticketer, runtime.stop, statistics)
    loops.append(("ticketer-outbox", partial(relay.run, runtime.stop)))
    return Wiring(loops, {"database": database_check(store.ping)}, close)


def main() -> int:
    return run_service("ticketer", wire)
