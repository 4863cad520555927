"""Backoff, Retry-After parsing and the per-mailbox budget, as plain functions."""

from __future__ import annotations

import contextlib
import random
import threading
from datetime import UTC, datetime

from libs.common.graph._limits import MailboxGate, SlidingBudget, gate_for
from libs.common.graph._retry import RetryPolicy, parse_retry_after


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Thu, 26 Nov 2026 12:00:10 GMT", now) == 10.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") == 0.0


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(base_s=1.0, cap_s=10.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (9, 10.0)]:
        waits = {policy.backoff(attempt, rng) for _ in range(20)}
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(waits) > 1  # jittered


def test_retry_after_wins_over_backoff_and_is_clamped() -> None:
    policy = RetryPolicy(base_s=1.0, max_retry_after_s=60.0)
    assert policy.delay(5, 2.0) == 2.0
    assert policy.delay(1, 3600.0) == 60.0


def test_sliding_budget_waits_for_the_oldest_to_leave_the_window() -> None:
    now = [0.0]
    budget = SlidingBudget(3, window_s=600.0, clock=lambda: now[0])
    assert [budget.try_take() for _ in range(3)] == [0.0, 0.0, 0.0]
    now[0] = 100.0
    assert budget.try_take() == 500.0
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    budget.take(sleep)
    assert slept == [500.0] and budget.used() == 1


def test_gate_caps_requests_in_flight() -> None:
    gate = MailboxGate(max_concurrency=2, budget_per_window=1000)
    barrier = threading.Barrier(2)
    release = threading.Event()

    def hold() -> None:
        with gate.slot():
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=5)
            release.wait(timeout=5)

    threads = [threading.Thread(target=hold) for _ in range(6)]
    for t in threads:
        t.start()
    release.set()
    for t in threads:
        t.join()
    assert gate.peak_in_flight == 2


def test_gates_are_shared_per_mailbox() -> None:
    a = gate_for("https://g/v1.0", "Help@X.test", 4, 9000)
    assert gate_for("https://g/v1.0", "help@x.test", 4, 9000) is a
    assert gate_for("https://g/v1.0", "other@x.test", 4, 9000) is not a
