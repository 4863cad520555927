"""The benchmark's figures from plain data: run start and end, latencies, lost, duplicates."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.corpus import make_corpus
from bench.measure import (
    Seeded,
    arrivals_and_deletes,
    busiest_window,
    count_duplicates,
    count_lost,
    delta_requests,
    final_folders,
    first_fetch_at,
    graph_requests,
    latencies,
    percentile,
    record_latencies,
    requests_by_route,
)
from bench.takeover import leases_taken

BOX = "bench1@contoso.com"
SEEDED = [Seeded(BOX, f"id{n}", f"<m{n}@example.org>") for n in range(3)]


def ev(at: float, kind: str, folder: str, gid: str) -> dict[str, object]:
    return {"at": at, "kind": kind, "folder": folder, "id": gid}


def deleted(at: float, gid: str) -> list[dict[str, object]]:
    return [ev(at, "removed", "inbox", gid), ev(at, "upsert", "recoverableitemsdeletions", gid)]


EVENTS = [
    ev(1.0, "upsert", "inbox", "id0"),
    ev(2.0, "upsert", "inbox", "id1"),
    ev(20.0, "upsert", "inbox", "id2"),
    *deleted(13.0, "id0"),
    *deleted(15.0, "id1"),
    *deleted(22.0, "id2"),
]


def test_the_run_starts_at_the_first_message_read() -> None:
    stats = {
        "first_request_at": {
            "GET users/{u}": 5.0,
            "GET users/{u}/mailFolders/{f}/messages/delta": 10.0,
            "POST $batch": 12.0,
        }
    }
    assert first_fetch_at(stats) == 10.0
    assert first_fetch_at({"first_request_at": {}}) is None


def test_latency_runs_from_visible_to_deleted() -> None:
    arrived, gone = arrivals_and_deletes(EVENTS)
    assert arrived == {"id0": 1.0, "id1": 2.0, "id2": 20.0}
    assert gone == {"id0": 13.0, "id1": 15.0, "id2": 22.0}
    # id0 and id1 waited in the inbox before the first fetch at 10: their clock starts then.
    assert latencies(SEEDED, arrived, gone, start=10.0) == [3.0, 5.0, 2.0]


def test_percentiles_are_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_lost_is_neither_stored_nor_still_in_the_mailbox() -> None:
    where = final_folders([*EVENTS[:3], *deleted(13.0, "id0"), *deleted(15.0, "id1")])
    assert where == {"id0": "recoverableitemsdeletions", "id1": "recoverableitemsdeletions",
                     "id2": "inbox"}  # fmt: skip
    in_mailbox = {(BOX, "id2")}
    assert count_lost(SEEDED, {(BOX, "id0"), (BOX, "id1")}, in_mailbox) == 0
    # id1 deleted without a stored message: lost.
    assert count_lost(SEEDED, {(BOX, "id0")}, in_mailbox) == 1


def test_duplicates_count_stored_messages_beyond_one_per_email() -> None:
    rows: list[tuple[str, str, str | None]] = [
        (BOX, "id0", "<m0@example.org>"),
        (BOX, "id1", "<m1@example.org>"),
        (BOX, "other", "<M1@example.org>"),  # the same email under another graph id
        (BOX, "stranger", None),  # not ours: ignored
    ]
    assert count_duplicates(SEEDED, rows) == 1
    assert count_duplicates(SEEDED, rows[:2]) == 0


def test_graph_requests_are_counted_between_two_snapshots() -> None:
    before = {"http_requests": 3, "token_requests": 1, "requests": {"POST $batch": {"200": 3}}}
    after = {
        "http_requests": 10,
        "token_requests": 2,
        "requests": {"POST $batch": {"200": 7, "429": 1}, "GET users/{u}": {"200": 2}},
    }
    assert graph_requests(before, after) == (7, 1)
    assert requests_by_route(before, after) == {"POST $batch": 5, "GET users/{u}": 2}


def test_the_corpus_is_unique_mixed_and_spread_over_mailboxes() -> None:
    boxes = ["a@contoso.com", "b@contoso.com"]
    corpus = make_corpus(200, boxes)
    assert [box for box, _ in corpus[:4]] == boxes * 2
    assert len({mail.message_id for _, mail in corpus}) == 200
    with_files = [m for _, m in corpus if b"Content-Disposition: attachment" in m.raw]
    assert 0 < len(with_files) < 40
    assert all(m.broker_bytes < len(m.raw) for m in with_files)
    assert any(b"text/html" in m.raw for _, m in corpus)


def test_record_latency_runs_from_arrival_or_first_fetch_to_the_stored_record() -> None:
    arrived, _ = arrivals_and_deletes(EVENTS)
    stored = {"id0": 11.0, "id2": 21.5}  # id1 never became a record

    assert record_latencies(SEEDED, arrived, stored, start=10.0) == [1.0, 1.5]


def test_busiest_window_counts_the_most_events_in_any_window() -> None:
    assert busiest_window([], 60) == 0
    assert busiest_window([0, 30, 60, 61, 200], 60) == 3  # 0..60 and 30..61 and 60..61
    assert busiest_window([5, 5, 5], 1) == 3
    assert busiest_window([0, 61, 122], 60) == 1


def test_delta_requests_count_only_the_delta_route() -> None:
    routes = {"GET users/{u}/mailFolders/{f}/messages/delta": 7, "POST $batch": 3}
    assert delta_requests(routes) == 7


def test_takeover_reads_the_leases_taken_after_the_kill() -> None:
    lines = [
        '{"event": "mailbox lease taken", "mailbox": "a@x", "timestamp": "2026-12-03T10:00:00Z"}',
        "not json",
        '{"event": "polling", "timestamp": "2026-12-03T10:00:05Z"}',
        '{"event": "mailbox lease taken", "mailbox": "b@x", "timestamp": "2026-12-03T10:00:07Z"}',
        '{"event": "mailbox lease taken", "mailbox": "c@x", "timestamp": "2026-12-03T10:00:08.5Z"}',
    ]
    kill = datetime(2026, 12, 3, 10, 0, 6, tzinfo=UTC).timestamp()

    assert sorted(leases_taken(lines, kill)) == ["b@x", "c@x"]
    assert leases_taken(lines, kill)["c@x"] - kill == 2.5
