"""One benchmark run: simulator, seed, raw broker round trip, services, wait for the drain,
collect, stop. Everything started here is stopped and removed in ``finally`` blocks (the
processes by SIGTERM, the namespace's queues, the database, the work directory)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any

from bench import measure
from bench.corpus import BenchMail, make_corpus
from bench.database import fresh_database, inbound_rows, record_count, stored_at
from bench.gmail import start_gmail_simulator
from bench.live import Live, say
from bench.procs import Child, clean_env, free_port
from bench.push import PushPlan, push_figures, service_figures, wait_subscribed
from bench.raw_broker import delete_raw_queue, roundtrip_per_s
from bench.report import Collected, build_report
from bench.services import resources, start_services
from bench.sim import UNLIMITED_BUDGET, Simulator, start_simulator, write_pipeline_config
from libs.common.broker import Broker, Names


@dataclass(frozen=True)
class Options:
    emails: int = 5000
    mailboxes: int = 1
    ticketers: int = 1
    database: str = "sqlite"
    keep_logs: bool = False
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672//"
    poll_interval_s: float = 5.0
    fetchers: int = 1
    senders: int = 1
    #: Outbound jobs published while the run goes (through the senders into the simulator).
    jobs: int = 0
    #: Steady arrival: mails per second over ``duration_s`` instead of a seeded backlog.
    steady_rate: float | None = None
    duration_s: float = 60.0
    #: SIGKILL the first fetcher this many seconds after the fetchers started.
    kill_fetcher_after_s: float | None = None
    #: Graph change notifications (``[push]``), the fraction dropped, the safety interval.
    push: bool = False
    push_drop: float = 0.0
    safety_interval_s: float = 300.0
    #: ``microsoft`` (the Graph simulator) or ``google`` (the Gmail simulator).
    provider: str = "microsoft"

    @property
    def counts(self) -> dict[str, int]:
        return {"fetcher": self.fetchers, "sender": self.senders, "ticketer": self.ticketers}


def mailbox_names(count: int) -> list[str]:
    return [f"bench{n + 1}@contoso.com" for n in range(count)]


def _delete_namespace(amqp_url: str, namespace: str) -> None:
    """The pipeline's queues and exchanges, and the raw round trip's queue if a failed
    measurement left it behind."""
    delete_raw_queue(amqp_url, namespace)
    broker = Broker(amqp_url, Names(namespace))
    try:
        broker.delete()
    finally:
        broker.close()


def run(opts: Options) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="mailpipe-bench-"))
    logs = work / "logs"
    logs.mkdir()
    namespace = f"bench-{uuid.uuid4().hex[:10]}"
    try:
        with ExitStack() as stack:
            database_url = stack.enter_context(fresh_database(opts.database, work))
            stack.callback(_delete_namespace, opts.amqp_url, namespace)
            say(f"work directory {work}, namespace {namespace}, database {opts.database}")
            collected = _benchmark(opts, stack, work, namespace, database_url)
            return build_report(collected, opts.database, opts.ticketers, os.cpu_count() or 1)
    finally:
        if opts.keep_logs:
            say(f"logs kept in {logs}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _benchmark(
    opts: Options, stack: ExitStack, work: Path, namespace: str, database_url: str
) -> Collected:
    """Seed (a backlog, or a steady arrival while the services run), measure the raw broker,
    run the services until the mail drained and the jobs went out, collect."""
    boxes = mailbox_names(opts.mailboxes)
    sim, plan = _start_simulator(opts, work, boxes, stack)
    corpus = make_corpus(_email_count(opts), boxes)
    seeded, seed_s = ([], 0.0) if opts.steady_rate else _seed(sim, corpus, opts.emails)
    raw_rate, size = _raw_broker(opts, namespace, corpus)
    env = _pipeline_env(opts, sim, work, namespace, database_url, plan)
    before, load_start = sim.stats(), os.getloadavg()[0]
    sim_cpu_before = sim.child.cpu_seconds() or 0.0  # seeding is not the pipeline's
    services = start_services(opts.counts, env, work / "logs", stack, plan)
    before = _subscribed(sim, len(boxes), plan) or before
    every = [c for group in services.values() for c in group]
    run = Live(opts, sim, boxes, namespace, services).begin(corpus)
    completed = run.finish(seeded, every)
    rss, cpu = resources(sim, services, sim_cpu_before)
    after, ended_at = sim.stats(), time.time()
    extra = run.figures() | push_figures(plan, before, after) | service_figures(plan, services)
    _stop_all(every)
    return Collected(
        seeded=run.seeded or seeded,
        before=before,
        after=after,
        events=[e for box in boxes for e in sim.events(box)],
        rows=inbound_rows(database_url),
        records=record_count(database_url),
        raw_broker_per_s=raw_rate,
        raw_message_bytes=size,
        max_rss_mb=rss,
        cpu_s=cpu,
        load_1m=(load_start, os.getloadavg()[0]),
        completed=completed,
        seed_s=seed_s,
        stored_at=stored_at(database_url),
        ended_at=ended_at,
        extra=extra,
    )


def _subscribed(sim: Simulator, mailboxes: int, plan: PushPlan | None) -> dict[str, Any] | None:
    """With push, once every mailbox is subscribed: the simulator's counts from then on (the
    steady state's requests, not the subscriptions' setup)."""
    if plan is None:
        return None
    wait_subscribed(sim, mailboxes, say)
    return sim.stats()


def _email_count(opts: Options) -> int:
    if opts.steady_rate:
        return max(1, round(opts.steady_rate * opts.duration_s))
    return opts.emails


def _start_simulator(
    opts: Options, work: Path, boxes: list[str], stack: ExitStack
) -> tuple[Simulator, PushPlan | None]:
    """The provider's simulator, Graph's request budget lifted (Gmail's quota stays Google's:
    see bench/gmail.py), and with ``--push`` the plan (the endpoint's port, the drops)."""
    if opts.provider == "google":
        gsim = start_gmail_simulator(work, boxes)
        stack.callback(gsim.child.stop)
        return gsim, None
    plan = PushPlan(free_port(), opts.safety_interval_s, opts.push_drop) if opts.push else None
    sim = start_simulator(work, boxes, allow_http_notifications=plan is not None)
    stack.callback(sim.child.stop)
    sim.faults(**UNLIMITED_BUDGET, **(plan.faults() if plan else {}))
    return sim, plan


def _stop_all(children: list[Child]) -> None:
    for child in children:
        child.stop()


def _seed(
    sim: Simulator, corpus: list[tuple[str, BenchMail]], emails: int
) -> tuple[list[measure.Seeded], float]:
    """The corpus into the mailboxes; what was seeded and how long it took."""
    seed_started = time.monotonic()
    seeded = [
        measure.Seeded(*row) for row in sim.seed(corpus, lambda n: say(f"seeded {n} of {emails}"))
    ]
    seed_s = time.monotonic() - seed_started
    say(f"seeded {len(seeded)} emails in {seed_s:.1f} s")
    return seeded, seed_s


def _raw_broker(
    opts: Options, namespace: str, corpus: list[tuple[str, BenchMail]]
) -> tuple[float, int]:
    """The broker's own round trip rate for messages of the corpus's mean size: the ceiling
    the pipeline is compared with."""
    size = round(mean(m.broker_bytes for _, m in corpus))
    raw_rate = roundtrip_per_s(opts.amqp_url, namespace, opts.emails, size)
    say(f"raw broker round trip: {raw_rate:.0f} messages/s ({size} bytes each)")
    return raw_rate, size


def _pipeline_env(
    opts: Options,
    sim: Simulator,
    work: Path,
    namespace: str,
    database_url: str,
    plan: PushPlan | None,
) -> dict[str, str]:
    """The services' environment, with their config file written into ``work``."""
    config = work / "mailpipe.toml"
    push = plan.table() if plan else None
    write_pipeline_config(sim, config, push=push, poll_interval_s=opts.poll_interval_s)
    notify = {"MAILPIPE_NOTIFY_PORT": str(plan.notify_port)} if plan else {}
    return clean_env(
        **notify,
        MAILPIPE_AMQP_URL=opts.amqp_url,
        MAILPIPE_NAMESPACE=namespace,
        MAILPIPE_DATABASE_URL=database_url,
        MAILPIPE_BLOB_DIR=str(work / "blobs"),
        MAILPIPE_CONFIG=str(config),
        MAILPIPE_LOG_LEVEL="INFO",
    )
