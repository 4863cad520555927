"""Exchange's 30 messages / minute / mailbox: never exceeded, and no job refused."""

from __future__ import annotations

import bisect

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.sender.domain.rate import SendRateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def max_in_window(times: list[float], window: float) -> int:
    ordered = sorted(times)
    return max(
        (bisect.bisect_left(ordered, t + window) - i for i, t in enumerate(ordered)), default=0
    )


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(min_value=0, max_value=30), st.sampled_from(["a@x.com", "b@x.com"])),
        max_size=150,
    )
)
def test_never_more_than_30_in_any_60_s_window(gaps: list[tuple[float, str]]) -> None:
    clock = FakeClock()
    limiter = SendRateLimiter(limit=30, window_s=60, clock=clock)
    sends: dict[str, list[float]] = {}
    for gap, mailbox in gaps:
        clock.now += gap
        wait = limiter.reserve(mailbox)
        assert wait >= 0
        sends.setdefault(mailbox, []).append(clock.now + wait)
    assert sum(len(v) for v in sends.values()) == len(gaps)  # every job gets a slot
    for times in sends.values():
        assert max_in_window(times, 60) <= 30
        assert times == sorted(times)


def test_first_30_go_at_once_the_31st_waits_a_window() -> None:
    clock = FakeClock()
    limiter = SendRateLimiter(clock=clock)
    assert limiter.next_wait("help@contoso.com") == 0.0
    waits = [limiter.reserve("help@contoso.com") for _ in range(31)]
    assert waits[:30] == [0.0] * 30
    assert waits[30] == pytest.approx(60.0)
    assert limiter.next_wait("help@contoso.com") == pytest.approx(60.0)
    clock.now = 45
    assert limiter.next_wait("help@contoso.com") == pytest.approx(15.0)
    assert limiter.reserve("help@contoso.com") == pytest.approx(15.0)


def test_mailboxes_are_limited_separately_and_case_blind() -> None:
    clock = FakeClock()
    limiter = SendRateLimiter(limit=2, window_s=10, clock=clock)
    assert [limiter.reserve("A@x.com"), limiter.reserve("a@X.com")] == [0.0, 0.0]
    assert limiter.reserve("b@x.com") == 0.0
    assert limiter.reserve("a@x.com") == pytest.approx(10.0)


def test_slots_free_up_as_time_passes() -> None:
    clock = FakeClock()
    limiter = SendRateLimiter(limit=2, window_s=10, clock=clock)
    limiter.reserve("m@x.com")
    clock.now = 4
    limiter.reserve("m@x.com")
    clock.now = 10
    assert limiter.reserve("m@x.com") == 0.0
    assert limiter.reserve("m@x.com") == pytest.approx(4.0)


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        SendRateLimiter(limit=0)
