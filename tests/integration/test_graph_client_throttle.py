"""Throttling against the simulator: every call eventually succeeds, Retry-After is honoured
and the simulator never sees more than 4 concurrent requests on one mailbox."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from libs.common.graph import RetryEvent
from libs.graphsim.testing import SimHandle

from .graph_client_helpers import BOX, faults, mail_for, seed_many, stats

CALLERS = 10
CALLS_EACH = 4


def _hammer(sim: SimHandle, ids: list[str], events: list[RetryEvent]) -> list[str]:
    """10 callers, each with its own GraphMail for the same mailbox, in parallel threads."""

    def caller(n: int) -> list[str]:
        with mail_for(sim, events=events) as mail:
            subjects = []
            for k in range(CALLS_EACH):
                subjects.append(str(mail.get_message(ids[(n + k) % len(ids)]).subject))
            subjects.append(str(len(mail.list_messages(top=10))))
            return subjects

    with ThreadPoolExecutor(CALLERS) as pool:
        return [s for result in pool.map(caller, range(CALLERS)) for s in result]


def test_parallel_callers_never_exceed_four_in_flight(sim: SimHandle) -> None:
    ids = seed_many(sim, 10)
    faults(sim, latency_ms=40)  # long enough that the callers really overlap
    events: list[RetryEvent] = []
    results = _hammer(sim, ids, events)
    assert len(results) == CALLERS * (CALLS_EACH + 1)
    assert results.count("10") == CALLERS
    seen = stats(sim)
    assert seen["max_concurrency"][BOX] == 4  # the limit was reached, never passed
    assert seen["throttled"] == 0 and events == []


def test_random_throttling_is_retried_after_retry_after(sim: SimHandle) -> None:
    ids = seed_many(sim, 10)
    faults(
        sim, throttle_ratio=0.3, retry_after_s=1, latency_ms=5, seed=1
    )  # 1: the first draw throttles
    events: list[RetryEvent] = []
    results = _hammer(sim, ids, events)
    assert len(results) == CALLERS * (CALLS_EACH + 1)
    assert sorted(r for r in results if r.startswith("Ticket")) == sorted(
        f"Ticket {(n + k) % 10}" for n in range(CALLERS) for k in range(CALLS_EACH)
    )
    throttled = [e for e in events if e.status == 429]
    seen = stats(sim)
    assert throttled and len(throttled) == seen["throttled"]
    assert all(e.retry_after_s == 1.0 and e.wait_s >= 1.0 for e in throttled)
    assert seen["max_concurrency"][BOX] <= 4


def test_batch_items_throttled_on_their_own_are_retried(sim: SimHandle) -> None:
    ids = seed_many(sim, 30)
    faults(sim, throttle_ratio=0.25, retry_after_s=1, seed=1)  # 1: the first draw throttles
    with mail_for(sim) as mail:
        outcomes = mail.delete_many(ids)
        faults(sim, throttle_ratio=0.0)
        assert mail.list_messages() == []
    assert all(o.outcome == "ok" for o in outcomes.values())
    assert stats(sim)["throttled"] > 0
