"""The simulator's timeline and request times: what the benchmark reads to time each email
from its arrival to its delete, and the pipeline from its first read."""

from __future__ import annotations

from urllib.parse import quote

from libs.graphsim.testing import SimHandle
from tests.graphsim_helpers import graph, seed

BOX = "support@contoso.com"
DELTA = "GET users/{u}/mailFolders/{f}/messages/delta"


def raw(n: int) -> bytes:
    return (
        f"From: Alice <alice@example.org>\r\nTo: {BOX}\r\nSubject: printer {n}\r\n"
        f"Message-ID: <ev{n}@example.org>\r\n\r\nPlease help.\r\n"
    ).encode()


def test_events_show_arrival_then_delete_in_order(sim: SimHandle) -> None:
    kept, deleted = seed(sim, raw(1)), seed(sim, raw(2))
    with graph(sim) as g:
        assert g.delete(f"users/{BOX}/messages/{quote(deleted, safe='')}").status_code == 204
    with sim.control() as c:
        events = c.get(f"/_sim/mailboxes/{BOX}/events").json()
        missing = c.get("/_sim/mailboxes/nobody@contoso.com/events")

    assert [(e["kind"], e["folder"], e["id"]) for e in events] == [
        ("upsert", "inbox", kept),
        ("upsert", "inbox", deleted),
        ("removed", "inbox", deleted),
        ("upsert", "recoverableitemsdeletions", deleted),
    ]
    times = [e["at"] for e in events]
    assert times == sorted(times)
    assert missing.status_code == 404


def test_stats_count_tokens_apart_and_time_each_route(sim: SimHandle) -> None:
    seed(sim, raw(1))
    with graph(sim) as g:  # one token request
        for _ in range(2):
            assert g.get(f"users/{BOX}/mailFolders/inbox/messages/delta").status_code == 200
    with sim.control() as c:
        stats = c.get("/_sim/stats").json()

    assert stats["token_requests"] == 1
    assert stats["http_requests"] == 2
    assert stats["requests"][DELTA] == {"200": 2}
    assert stats["first_request_at"][DELTA] <= stats["last_request_at"][DELTA]


def test_reset_clears_the_timeline_and_the_request_times(sim: SimHandle) -> None:
    seed(sim, raw(1))
    with graph(sim) as g:
        g.get(f"users/{BOX}/mailFolders/inbox/messages/delta")
    with sim.control() as c:
        c.post("/_sim/reset").raise_for_status()
        events = c.get(f"/_sim/mailboxes/{BOX}/events").json()
        stats = c.get("/_sim/stats").json()

    assert events == []
    assert stats["token_requests"] == 0
    assert stats["first_request_at"] == {}
