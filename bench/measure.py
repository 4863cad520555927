"""The figures of a run, computed from plain data: the simulator's stats and timelines, the
seeded emails and the stored rows. No I/O here.

Definitions (also in docs/performance.md):
- the run starts at the first fetch: the first Graph request that reads messages (the
  fetcher's first delta page), from the simulator's per-route first-request times;
- it ends at the last delete: the last move into Recoverable Items in any mailbox;
- an email's latency runs from when the pipeline could first see it (its arrival in the
  mailbox, or the first fetch if it arrived before that) to its delete;
- lost: seeded emails with no stored message and no longer in the mailbox (Recoverable Items
  does not count as in the mailbox);
- duplicates: stored inbound messages beyond one per seeded email (matched by graph id, else
  by Message-ID).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DELETED = "recoverableitemsdeletions"


@dataclass(frozen=True)
class Seeded:
    mailbox: str
    #: The provider's id of the seeded mail.
    message_id: str
    internet_message_id: str


def first_fetch_at(stats: Mapping[str, Any]) -> float | None:
    """When the first Graph request reading messages arrived (epoch seconds)."""
    times = [
        at
        for route, at in stats.get("first_request_at", {}).items()
        if route.startswith("GET ") and "messages" in route
    ]
    return min(times) if times else None


def arrivals_and_deletes(
    events: Iterable[Mapping[str, Any]],
) -> tuple[dict[str, float], dict[str, float]]:
    """Per immutable id: when it first appeared in a folder, and when it first went to
    Recoverable Items."""
    arrived: dict[str, float] = {}
    deleted: dict[str, float] = {}
    for e in events:
        if e["kind"] != "upsert":
            continue
        arrived.setdefault(e["id"], e["at"])
        if e["folder"] == DELETED:
            deleted.setdefault(e["id"], e["at"])
    return arrived, deleted


def final_folders(events: Iterable[Mapping[str, Any]]) -> dict[str, str | None]:
    """Per immutable id, the folder it is in at the end (``None``: purged)."""
    where: dict[str, str | None] = {}
    for e in events:
        if e["kind"] == "upsert":
            where[e["id"]] = e["folder"]
        elif where.get(e["id"]) == e["folder"]:
            where[e["id"]] = None
    return where


def latencies(
    seeded: Iterable[Seeded],
    arrived: Mapping[str, float],
    deleted: Mapping[str, float],
    start: float,
) -> list[float]:
    """Seconds from visible-to-the-pipeline to deleted, per deleted email."""
    out = []
    for s in seeded:
        if s.message_id in deleted:
            visible = max(arrived.get(s.message_id, start), start)
            out.append(max(0.0, deleted[s.message_id] - visible))
    return out


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile; ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def count_lost(
    seeded: Iterable[Seeded], stored: set[tuple[str, str]], in_mailbox: set[tuple[str, str]]
) -> int:
    """Seeded emails neither stored nor still in the mailbox."""
    return sum(
        1
        for s in seeded
        if (s.mailbox, s.message_id) not in stored and (s.mailbox, s.message_id) not in in_mailbox
    )


def count_duplicates(seeded: Iterable[Seeded], rows: Iterable[tuple[str, str, str | None]]) -> int:
    """Stored inbound messages beyond one per seeded email."""
    by_gid: dict[tuple[str, str], int] = {}
    by_mid: dict[tuple[str, str], int] = {}
    for index, s in enumerate(seeded):
        by_gid[(s.mailbox, s.message_id)] = index
        by_mid[(s.mailbox, s.internet_message_id.lower())] = index
    per_email: Counter[int] = Counter()
    for mailbox, message_id, internet_message_id in rows:
        n: int | None = by_gid.get((mailbox, message_id))
        if n is None and internet_message_id is not None:
            n = by_mid.get((mailbox, internet_message_id.lower()))
        if n is not None:
            per_email[n] += 1
    return sum(c - 1 for c in per_email.values() if c > 1)


def graph_requests(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[int, int]:
    """Graph requests (a ``$batch`` counts once) and token requests made between two stats."""
    http = int(after["http_requests"]) - int(before["http_requests"])
    tokens = int(after.get("token_requests", 0)) - int(before.get("token_requests", 0))
    return http, tokens


def requests_by_route(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, int]:
    """Graph requests per route template between two stats (every status together)."""
    out: dict[str, int] = {}
    for route, statuses in after["requests"].items():
        prior = before["requests"].get(route, {})
        n = sum(statuses.values()) - sum(prior.values())
        if n:
            out[route] = n
    return out


def record_latencies(
    seeded: Iterable[Seeded],
    arrived: Mapping[str, float],
    stored_at: Mapping[str, float],
    start: float,
) -> list[float]:
    """Seconds from visible-to-the-pipeline (arrival, or the first fetch if it arrived before)
    to the record's stored message, per stored email: in a steady run, what a customer waits
    before their mail is a ticket."""
    out = []
    for s in seeded:
        if s.message_id in stored_at:
            visible = max(arrived.get(s.message_id, start), start)
            out.append(max(0.0, stored_at[s.message_id] - visible))
    return out


def busiest_window(times: Iterable[float], window_s: float) -> int:
    """The most events in any ``window_s``-second window (both ends included)."""
    ordered = sorted(times)
    best, first = 0, 0
    for last, at in enumerate(ordered):
        while at - ordered[first] > window_s:
            first += 1
        best = max(best, last - first + 1)
    return best


def delta_requests(by_route: Mapping[str, int]) -> int:
    """Requests of the delta query (first pages and their continuations), or on Gmail of
    ``history.list``, its counterpart."""
    return sum(n for route, n in by_route.items() if "delta" in route or "history" in route)
