"""The JSON object a run prints as its last line, from what the run collected."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench import measure
from bench.gmail import gmail_figures


@dataclass(frozen=True)
class Collected:
    seeded: list[measure.Seeded]
    before: dict[str, Any]
    after: dict[str, Any]
    events: list[dict[str, Any]]
    rows: list[tuple[str, str, str | None]]
    records: int
    raw_broker_per_s: float
    raw_message_bytes: int
    max_rss_mb: dict[str, float]
    #: CPU seconds per service over its life (the simulator's: since the services started).
    cpu_s: dict[str, float]
    #: The machine's 1-minute load average when the services started and when the run ended:
    #: anything else busy on the machine shows here.
    load_1m: tuple[float, float]
    completed: bool
    seed_s: float
    #: Graph id → when its inbound message was stored with a record (epoch seconds).
    stored_at: dict[str, float] = field(default_factory=dict)
    #: When the simulator's final stats were read (epoch seconds).
    ended_at: float = 0.0
    #: Figures of the live part (mode, jobs, the killed fetcher), added as they are.
    extra: dict[str, Any] = field(default_factory=dict)


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def build_report(c: Collected, database: str, ticketers: int, cpu_count: int) -> dict[str, Any]:
    n = len(c.seeded)
    start = measure.first_fetch_at(c.after)
    arrived, deleted = measure.arrivals_and_deletes(c.events)
    ours = [deleted[s.message_id] for s in c.seeded if s.message_id in deleted]
    end = max(ours) if ours else None
    elapsed = end - start if start is not None and end is not None else None
    rate = n / elapsed if elapsed and c.completed else None
    lat = measure.latencies(c.seeded, arrived, deleted, start) if start is not None else []
    in_mailbox = _left_in_mailbox(c)
    stored = {(box, gid) for box, gid, _ in c.rows}
    http, tokens = measure.graph_requests(c.before, c.after)
    http_by_route = measure.requests_by_route(c.before, c.after)
    return {
        "emails": n,
        "completed": c.completed,
        "elapsed_s": _r(elapsed),
        "emails_per_s": _r(rate, 1),
        "graph_http_requests": http,
        "graph_http_requests_per_email": _r(http / n if n else None, 4),
        "graph_token_requests": tokens,
        "graph_requests_by_route": http_by_route,
        "graph_throttled": int(c.after["throttled"]) - int(c.before["throttled"]),
        "raw_broker_roundtrip_per_s": _r(c.raw_broker_per_s, 1),
        "raw_broker_message_bytes": c.raw_message_bytes,
        "ratio_vs_raw_broker": _r(rate / c.raw_broker_per_s if rate else None),
        **_latency(c, lat),
        "lost": measure.count_lost(c.seeded, stored, in_mailbox),
        "duplicates": measure.count_duplicates(c.seeded, c.rows),
        "records": c.records,
        "left_in_mailbox": len(in_mailbox),
        **_conditions(c, database, ticketers, cpu_count),
        "cpu_ms_per_email": {k: _r(v * 1000 / n if n else None, 2) for k, v in c.cpu_s.items()},
        "delta_requests_per_mailbox_per_interval": _delta_rate(c, http_by_route, start),
        **gmail_figures(c.before, c.after, n),
        **c.extra,
    }


def _latency(c: Collected, to_delete: list[float]) -> dict[str, Any]:
    """``latency_*``: from arrival to record in a steady run (what a customer waits for a
    ticket), from visible to deleted in a backlog run; ``record_latency_*`` always."""
    arrived, _ = measure.arrivals_and_deletes(c.events)
    start = measure.first_fetch_at(c.after)
    to_record = (
        [] if start is None else measure.record_latencies(c.seeded, arrived, c.stored_at, start)
    )
    steady = c.extra.get("mode") == "steady"
    lat = to_record if steady else to_delete
    return {
        "latency_from": "arrival_to_record" if steady else "visible_to_delete",
        "latency_p50_s": _r(measure.percentile(lat, 50)),
        "latency_p95_s": _r(measure.percentile(lat, 95)),
        "latency_max_s": _r(max(lat) if lat else None),
        "record_latency_p50_s": _r(measure.percentile(to_record, 50)),
        "record_latency_p95_s": _r(measure.percentile(to_record, 95)),
    }


def _delta_rate(c: Collected, by_route: dict[str, int], start: float | None) -> float | None:
    """Delta requests per mailbox per poll interval, from the first fetch to the end of the
    run: ≈ 1 when each mailbox is polled once an interval by one fetcher (continuation pages
    and rounds started at once after a full page add to it under a backlog)."""
    interval = c.extra.get("poll_interval_s")
    boxes = c.extra.get("mailboxes_polled", 0)
    if start is None or not interval or not boxes or c.ended_at <= start:
        return None
    return _r(measure.delta_requests(by_route) / (boxes * (c.ended_at - start) / interval), 3)


def _left_in_mailbox(c: Collected) -> set[tuple[str, str]]:
    """(mailbox, id) of each seeded mail whose last move left it in a folder, not deleted."""
    where = measure.final_folders(c.events)
    return {
        (s.mailbox, s.message_id)
        for s in c.seeded
        if where.get(s.message_id) not in (None, measure.DELETED)
    }


def _conditions(c: Collected, database: str, ticketers: int, cpu_count: int) -> dict[str, Any]:
    """What the run used and ran on, to compare runs fairly: memory, CPU, the setup, the
    machine's load, and how long seeding took."""
    return {
        "max_rss_mb": c.max_rss_mb,
        "cpu_s": {name: round(v, 2) for name, v in c.cpu_s.items()},
        "database": database,
        "ticketers": ticketers,
        "mailboxes": len({s.mailbox for s in c.seeded}),
        "cpu_count": cpu_count,
        "load_avg_1m": [round(x, 2) for x in c.load_1m],
        "seed_s": _r(c.seed_s, 1),
    }
