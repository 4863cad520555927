"""One benchmark run: simulator, seed, raw broker round trip, services, wait for the drain,
collect, stop. Everything started here is stopped and removed in ``finally`` blocks (the
processes by SIGTERM, the namespace's queues, the database, the work directory)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any

from bench import measure
from bench.corpus import BenchMail, make_corpus
from bench.database import fresh_database, inbound_rows, record_count
from bench.procs import Child, clean_env, free_port, spawn
from bench.raw_broker import delete_raw_queue, roundtrip_per_s
from bench.report import Collected, build_report
from bench.sim import UNLIMITED_BUDGET, Simulator, start_simulator, write_pipeline_config
from libs.common.broker import Broker, Names

#: The run gives up when no mail has been deleted for this long (a stuck pipeline).
STALL_TIMEOUT_S = 120.0
QUARANTINE = "mailpipe-quarantine"


@dataclass(frozen=True)
class Options:
    emails: int = 5000
    mailboxes: int = 1
    ticketers: int = 1
    database: str = "sqlite"
    keep_logs: bool = False
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672//"
    poll_interval_s: float = 5.0


def say(message: str) -> None:
    """Progress for people: stderr, so stdout's last line stays the JSON."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


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


def _wait_ready(child: Child, timeout_s: float = 60.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and child.alive:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{child.health_port}/readyz", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{child.name} did not become ready:\n{child.log_tail()}")


def _drained(sim: Simulator, expected: dict[str, int]) -> tuple[bool, int]:
    """Whether every inbox is empty with all its mail deleted (or quarantined); deleted so far."""
    done, deleted = True, 0
    for box, count in expected.items():
        folders = sim.folders(box)
        gone = folders.get(measure.DELETED, 0)
        deleted += gone
        if folders.get("inbox", 0) or gone + folders.get(QUARANTINE, 0) < count:
            done = False
    return done, deleted


def wait_for_drain(
    sim: Simulator, expected: dict[str, int], services: list[Child], now: Callable[[], float]
) -> bool:
    """Poll the mailboxes until drained; ``False`` when stalled or a service died."""
    last, last_change, last_say = -1, now(), 0.0
    while True:
        done, deleted = _drained(sim, expected)
        if done:
            return True
        if deleted != last:
            last, last_change = deleted, now()
        dead = [c.name for c in services if not c.alive]
        if dead or now() - last_change > STALL_TIMEOUT_S:
            say(f"stopped waiting: {'exited: ' + ', '.join(dead) if dead else 'no progress'}")
            return False
        if now() - last_say >= 5:
            say(f"{deleted} of {sum(expected.values())} deleted")
            last_say = now()
        time.sleep(0.25)


def _start_services(
    opts: Options, env: dict[str, str], logs: Path, stack: ExitStack
) -> dict[str, list[Child]]:
    def start(name: str, service: str) -> Child:
        child = spawn(
            name,
            ["-m", f"services.{service}"],
            {**env, "MAILPIPE_HEALTH_PORT": str(free_port())},
            logs,
        )
        stack.callback(child.stop)
        return child

    group: dict[str, list[Child]] = {"sender": [start("sender", "sender")], "ticketer": []}
    for n in range(opts.ticketers):
        group["ticketer"].append(start(f"ticketer-{n + 1}", "ticketer"))
    for child in group["sender"] + group["ticketer"]:
        _wait_ready(child)
    # The fetcher goes last: the clock starts at its first read, with every consumer ready.
    group["fetcher"] = [start("fetcher", "fetcher")]
    return group


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
    """Seed, measure the raw broker, run the services until the mail drained, collect."""
    boxes = mailbox_names(opts.mailboxes)
    sim = _start_simulator(work, boxes, stack)
    corpus = make_corpus(opts.emails, boxes)
    seeded, seed_s = _seed(sim, corpus, opts.emails)
    raw_rate, size = _raw_broker(opts, namespace, corpus)
    env = _pipeline_env(opts, sim, work, namespace, database_url)
    load_start = os.getloadavg()[0]
    before = sim.stats()
    sim_cpu_before = sim.child.cpu_seconds() or 0.0  # seeding is not the pipeline's
    services = _start_services(opts, env, work / "logs", stack)
    expected = {box: sum(1 for s in seeded if s.mailbox == box) for box in boxes}
    every = [c for group in services.values() for c in group]
    completed = wait_for_drain(sim, expected, every, time.monotonic)
    rss, cpu = _resources(sim, services, sim_cpu_before)
    after = sim.stats()
    events = [e for box in boxes for e in sim.events(box)]
    for child in every:
        child.stop()
    return Collected(
        seeded=seeded,
        before=before,
        after=after,
        events=events,
        rows=inbound_rows(database_url),
        records=record_count(database_url),
        raw_broker_per_s=raw_rate,
        raw_message_bytes=size,
        max_rss_mb=rss,
        cpu_s=cpu,
        load_1m=(load_start, os.getloadavg()[0]),
        completed=completed,
        seed_s=seed_s,
    )


def _start_simulator(work: Path, boxes: list[str], stack: ExitStack) -> Simulator:
    sim = start_simulator(work, boxes)
    stack.callback(sim.child.stop)
    sim.faults(**UNLIMITED_BUDGET)
    return sim


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
    opts: Options, sim: Simulator, work: Path, namespace: str, database_url: str
) -> dict[str, str]:
    """The services' environment, with their config file written into ``work``."""
    config = work / "mailpipe.toml"
    write_pipeline_config(sim, config, poll_interval_s=opts.poll_interval_s)
    return clean_env(
        MAILPIPE_AMQP_URL=opts.amqp_url,
        MAILPIPE_NAMESPACE=namespace,
        MAILPIPE_DATABASE_URL=database_url,
        MAILPIPE_BLOB_DIR=str(work / "blobs"),
        MAILPIPE_CONFIG=str(config),
        MAILPIPE_LOG_LEVEL="INFO",
    )


def _resources(
    sim: Simulator, services: dict[str, list[Child]], sim_cpu_before: float
) -> tuple[dict[str, float], dict[str, float]]:
    """Peak memory (MB) and CPU seconds per service; the simulator's CPU since the start."""
    rss = {name: max((c.peak_rss_mb() or 0.0) for c in group) for name, group in services.items()}
    rss["graphsim"] = sim.child.peak_rss_mb() or 0.0
    cpu = {
        name: round(sum((c.cpu_seconds() or 0.0) for c in group), 2)
        for name, group in services.items()
    }
    cpu["graphsim"] = (sim.child.cpu_seconds() or 0.0) - sim_cpu_before
    return rss, cpu
