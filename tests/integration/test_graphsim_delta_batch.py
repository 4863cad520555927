"""Delta query, JSON batching and Exchange-like throttling in the simulator."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote

import httpx

from libs.graphsim.testing import SimHandle
from tests.graphsim_helpers import assert_shape, graph, seed
from tests.integration.test_graphsim_mail import simple

BOX = "users/support@contoso.com"
DELTA = f"{BOX}/mailFolders/inbox/messages/delta"


def _drain(g: httpx.Client, url: str, page_size: int = 5) -> tuple[list[dict[str, Any]], str, int]:
    """All items of one delta round, the deltaLink and the number of pages."""
    items: list[dict[str, Any]] = []
    pages = 0
    prefer = f'odata.maxpagesize={page_size}, IdType="ImmutableId"'
    while True:
        r = g.get(url, headers={"Prefer": prefer})
        assert r.status_code == 200, r.text
        body = r.json()
        pages += 1
        items += body["value"]
        if "@odata.deltaLink" in body:
            return items, body["@odata.deltaLink"], pages
        url = body["@odata.nextLink"]


def test_delta_initial_sync_then_new_mail_and_deletes(sim: SimHandle) -> None:
    ids = [seed(sim, simple(n)) for n in range(12)]
    with graph(sim) as g:
        first, link, pages = _drain(g, f"{DELTA}?$select=subject,receivedDateTime")
        assert pages == 3
        assert [m["id"] for m in first] == ids
        assert set(first[0]) >= {"id", "subject", "receivedDateTime"}
        assert "body" not in first[0]
        quiet, same_link, _ = _drain(g, link)
        assert quiet == []
        new = [seed(sim, simple(n)) for n in (100, 101)]
        g.delete(f"{BOX}/messages/{ids[0]}").raise_for_status()
        g.post(f"{BOX}/messages/{ids[1]}/move", json={"destinationId": "archive"})
        changes, _, _ = _drain(g, same_link)
    removed = {m["id"] for m in changes if "@removed" in m}
    added = {m["id"] for m in changes if "@removed" not in m}
    assert removed == {ids[0], ids[1]}
    assert added == set(new)
    assert all(m["@removed"] == {"reason": "deleted"} for m in changes if "@removed" in m)


def test_expired_delta_token_is_410_and_a_full_resync_recovers(sim: SimHandle) -> None:
    ids = [seed(sim, simple(n)) for n in range(3)]
    with graph(sim) as g:
        _, link, _ = _drain(g, DELTA)
        with sim.control() as c:
            c.post("/_sim/mailboxes/support@contoso.com/expire-delta").raise_for_status()
        gone = g.get(link)
        unknown = g.get(f"{DELTA}?$deltatoken=never-issued")
        again, _, _ = _drain(g, DELTA)
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "SyncStateNotFound"
    assert unknown.status_code == 410
    assert [m["id"] for m in again] == ids
    for item in again:
        assert_shape("microsoft.graph.message", item)


def _batch_delete(g: httpx.Client, ids: list[str]) -> dict[str, int]:
    requests = [
        {
            "id": str(i),
            "method": "DELETE",
            "url": f"/{BOX}/messages/{quote(mid, safe='')}",
            "headers": {"Prefer": 'IdType="ImmutableId"'},
        }
        for i, mid in enumerate(ids)
    ]
    r = g.post("$batch", json={"requests": requests})
    assert r.status_code == 200
    return {ids[int(item["id"])]: item["status"] for item in r.json()["responses"]}


def test_batch_deletes_45_messages_and_reports_404_for_deleted_ones(sim: SimHandle) -> None:
    ids = [seed(sim, simple(n)) for n in range(45)]
    statuses: dict[str, int] = {}
    with graph(sim) as g:
        for start in range(0, 45, 20):
            statuses |= _batch_delete(g, ids[start : start + 20])
        again = _batch_delete(g, ids[:3])
    with sim.control() as c:
        counts = c.get("/_sim/mailboxes/support@contoso.com").json()["folders"]
    assert statuses == dict.fromkeys(ids, 204)
    assert again == dict.fromkeys(ids[:3], 404)
    assert counts["inbox"] == 0
    assert counts["recoverableitemsdeletions"] == 45


def test_batch_limits_dependencies_and_per_item_throttling(sim: SimHandle) -> None:
    mid = seed(sim, simple(1))
    too_many = [{"id": str(i), "method": "GET", "url": f"/{BOX}"} for i in range(21)]
    chain = [
        {"id": "a", "method": "GET", "url": f"/{BOX}/messages/does-not-exist"},
        {"id": "b", "method": "GET", "url": f"/{BOX}/messages/{mid}", "dependsOn": ["a"]},
        {"id": "c", "method": "GET", "url": f"/{BOX}/messages/{mid}?$select=subject"},
    ]
    with graph(sim) as g:
        rejected = g.post("$batch", json={"requests": too_many})
        answered = g.post("$batch", json={"requests": chain}).json()["responses"]
        with sim.control() as c:
            c.post("/_sim/faults", json={"throttle_ratio": 1.0, "retry_after_s": 2})
        throttled = g.post("$batch", json={"requests": chain[2:]})
    by_id = {item["id"]: item for item in answered}
    assert rejected.status_code == 400
    assert by_id["a"]["status"] == 404
    assert by_id["b"]["status"] == 424
    assert by_id["c"]["status"] == 200
    assert by_id["c"]["body"]["subject"] == "mail 1"
    assert throttled.status_code == 200
    item = throttled.json()["responses"][0]
    assert item["status"] == 429
    assert item["headers"]["Retry-After"] == "2"
    assert item["body"]["error"]["code"] == "ApplicationThrottled"


def test_more_than_four_concurrent_requests_on_a_mailbox_are_throttled(sim: SimHandle) -> None:
    with sim.control() as c:
        c.post("/_sim/faults", json={"latency_ms": 300})
    statuses: list[int] = []
    retry_after: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(10)

    def call(g: httpx.Client) -> None:
        start.wait()
        r = g.get(f"{BOX}/messages", params={"$top": "1"})
        with lock:
            statuses.append(r.status_code)
            if r.status_code == 429:
                retry_after.append(r.headers["Retry-After"])
                assert r.json()["error"]["code"] == "ApplicationThrottled"

    clients = [graph(sim) for _ in range(10)]
    threads = [threading.Thread(target=call, args=(g,)) for g in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for g in clients:
        g.close()
    with sim.control() as c:
        stats = c.get("/_sim/stats").json()
    assert len(statuses) == 10
    assert statuses.count(200) >= 4
    assert statuses.count(429) >= 1
    assert retry_after and all(int(v) >= 1 for v in retry_after)
    assert stats["max_concurrency"]["support@contoso.com"] > 4
    assert stats["throttled"] == statuses.count(429)


def test_the_request_budget_per_mailbox(sim: SimHandle) -> None:
    with sim.control() as c:
        c.post("/_sim/faults", json={"mailbox_budget": 5})
    with graph(sim) as g:
        statuses = [g.get(f"{BOX}/mailFolders/inbox").status_code for _ in range(7)]
        other = g.get("users/helpdesk@contoso.com/mailFolders/inbox")
    assert statuses == [200] * 5 + [429] * 2
    assert other.status_code == 200  # the budget is per mailbox


def test_random_throttling_and_errors_are_injected(sim: SimHandle) -> None:
    with sim.control() as c:
        c.post("/_sim/faults", json={"throttle_ratio": 1.0})
    with graph(sim) as g:
        throttled = g.get(f"{BOX}/messages")
        with sim.control() as c:
            c.post("/_sim/faults", json={"throttle_ratio": 0.0, "error_ratio": 1.0})
        failed = g.get(f"{BOX}/messages")
    with sim.control() as c:
        stats = c.get("/_sim/stats").json()
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "1"
    assert failed.status_code == 503
    assert stats["requests"][f"GET {BOX.replace('support@contoso.com', '{u}')}/messages"] == {
        "429": 1,
        "503": 1,
    }


def _stats(sim: SimHandle) -> dict[str, Any]:
    with sim.control() as c:
        return dict(c.get("/_sim/stats").json())


def test_stats_count_delta_rounds_and_the_most_open_at_once_per_mailbox(sim: SimHandle) -> None:
    for n in range(6):
        seed(sim, simple(n))
    mailbox = "support@contoso.com"
    prefer = {"Prefer": "odata.maxpagesize=4"}
    with graph(sim) as g:
        _drain(g, DELTA, page_size=4)
        _drain(g, DELTA, page_size=4)
        assert _stats(sim)["max_open_delta_rounds"] == {mailbox: 1}, "one after the other"
        # Two clients page through the mailbox's changes at the same time.
        one = g.get(DELTA, headers=prefer).json()
        two = g.get(DELTA, headers=prefer).json()
        g.get(one["@odata.nextLink"], headers=prefer).raise_for_status()
        g.get(two["@odata.nextLink"], headers=prefer).raise_for_status()
    stats = _stats(sim)
    assert stats["max_open_delta_rounds"] == {mailbox: 2}
    assert stats["delta_rounds"] == {mailbox: 4}
    assert stats["mailbox_requests"] == {mailbox: 8}, "two pages per round"
