"""Exchange's 30 messages / minute / mailbox as slot arithmetic: never exceeded, no job refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.sender.domain.rate import RateLimit, slot_wait
from tests.rate_checks import busiest_window


def test_under_the_limit_a_slot_is_free_now() -> None:
    rate = RateLimit(limit=3, window_s=10)
    assert slot_wait([], 100.0, rate) == 0.0
    assert slot_wait([95.0, 99.0], 100.0, rate) == 0.0


def test_full_waits_until_the_oldest_counted_slot_leaves_the_window() -> None:
    rate = RateLimit(limit=3, window_s=10)
    assert slot_wait([92.0, 95.0, 99.0], 100.0, rate) == pytest.approx(2.0)
    # More than the limit (another sender's slot stamped late): the window must shed two.
    assert slot_wait([91.0, 92.0, 95.0, 99.0], 100.0, rate) == pytest.approx(2.0)


def test_slots_outside_the_window_do_not_count() -> None:
    rate = RateLimit(limit=2, window_s=10)
    assert slot_wait([80.0, 89.0, 90.0, 95.0], 100.0, rate) == 0.0
    assert slot_wait([90.5, 95.0], 100.0, rate) == pytest.approx(0.5)


def test_a_full_window_never_answers_zero() -> None:
    rate = RateLimit(limit=1, window_s=10)
    assert slot_wait([90.0000000001], 100.0, rate) > 0


def test_exchanges_default_is_30_a_minute() -> None:
    assert RateLimit() == RateLimit(limit=30, window_s=60.0)


@pytest.mark.parametrize(("limit", "window_s"), [(0, 60.0), (30, 0.0), (30, -1.0)])
def test_bad_limits_are_refused(limit: int, window_s: float) -> None:
    with pytest.raises(ValueError):
        RateLimit(limit=limit, window_s=window_s)


@settings(max_examples=150, deadline=None)
@given(
    arrivals=st.lists(st.floats(min_value=0, max_value=30), min_size=1, max_size=80),
    durations=st.lists(st.floats(min_value=0, max_value=3), min_size=1, max_size=5),
)
def test_senders_that_ask_again_after_waiting_never_exceed_the_limit(
    arrivals: list[float], durations: list[float]
) -> None:
    """Jobs arrive, each asks for a slot, waits as told and asks again; a send takes its
    time and its slot is stamped where it ended. Every window holds at most ``limit`` ends."""
    rate = RateLimit(limit=5, window_s=10)
    # Each job: when it next asks; once it has a slot, when its send ends.
    asking = sorted(arrivals)
    slots: list[float] = []
    ends: list[float] = []
    in_flight: list[tuple[float, int]] = []  # (end time, slot index)
    turn = 0
    while asking or in_flight:
        now = min([*asking[:1], *(end for end, _ in in_flight)])
        for end, index in [f for f in in_flight if f[0] <= now]:
            slots[index] = end  # stamped at the end of the send
            ends.append(end)
            in_flight.remove((end, index))
        if asking and asking[0] <= now:
            asking.pop(0)
            wait = slot_wait(slots, now, rate)
            if wait == 0.0:
                slots.append(now)
                in_flight.append((now + durations[turn % len(durations)], len(slots) - 1))
                turn += 1
            else:
                asking.append(now + wait)
                asking.sort()
    assert len(ends) == len(arrivals)  # every job got its slot
    assert busiest_window(ends, rate.window_s) <= rate.limit
