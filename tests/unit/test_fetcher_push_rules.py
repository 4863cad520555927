"""Push's pure rules (renewal at half the lifetime left, the retry backoff, the hint bound) and
the schedule's hurry: a hint runs the mailbox's turn at once, hints during a turn are one
more turn after it, a flood is bounded."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from services.fetcher.domain.push import (
    HINT_SPACING_S,
    MIN_RENEW_S,
    hurried_due,
    renew_at,
    retry_in,
)
from services.fetcher.schedule import PollSchedule

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
LONG = 3600.0  # the safety interval of these tests: only a hint explains a second turn
WAIT_S = 10.0


@pytest.mark.parametrize(
    ("lifetime", "renew_after"),
    [
        (timedelta(minutes=4230), timedelta(minutes=2115)),
        (timedelta(days=7), timedelta(days=3.5)),  # a longer grant is used, not capped
        (timedelta(hours=1), timedelta(minutes=30)),
        (timedelta(seconds=10), timedelta(seconds=MIN_RENEW_S)),
        (timedelta(seconds=-5), timedelta(seconds=MIN_RENEW_S)),  # expired: soon, no loop
    ],
)
def test_renewal_at_half_the_lifetime_left(lifetime: timedelta, renew_after: timedelta) -> None:
    assert renew_at(NOW, NOW + lifetime) == NOW + renew_after


def test_subscribing_again_backs_off_up_to_the_ceiling() -> None:
    waits = [retry_in(n, 300.0) for n in range(1, 8)]
    assert waits == [30.0, 60.0, 120.0, 240.0, 300.0, 300.0, 300.0]
    assert retry_in(10_000, 300.0) == 300.0


def test_a_hint_is_due_at_once_but_spaced_from_the_last() -> None:
    assert hurried_due(100.0, 400.0, None) == 100.0
    assert hurried_due(100.0, 400.0, 99.5) == 99.5 + HINT_SPACING_S
    assert hurried_due(100.0, 100.0, None) is None, "already due: nothing changes"
    assert hurried_due(100.0, 100.5, 99.8) is None, "due before the spacing allows"


class Box:
    """A mailbox whose turns are counted; ``block`` holds its turn until released."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.turns = 0
        self.turned = threading.Condition()
        self.block = threading.Event()
        self.block.set()
        self.inside = threading.Event()

    def turn(self) -> float:
        self.inside.set()
        self.block.wait(WAIT_S)
        with self.turned:
            self.turns += 1
            self.turned.notify_all()
        return LONG

    def wait_turns(self, n: int) -> None:
        with self.turned:
            assert self.turned.wait_for(lambda: self.turns >= n, WAIT_S), f"{self.turns} < {n}"


Running = tuple[PollSchedule, Box, Box, list[tuple[str, bool]], threading.Event]


@pytest.fixture
def running() -> Running:
    a, b = Box("a@x.com"), Box("b@x.com")
    schedule = PollSchedule([a, b], threads=2)
    told: list[tuple[str, bool]] = []
    schedule.on_turn = lambda address, hinted: told.append((address, hinted))
    stop = threading.Event()
    for _ in range(2):
        threading.Thread(target=schedule.worker, args=(stop,), daemon=True).start()
    a.wait_turns(1)
    b.wait_turns(1)
    return schedule, a, b, told, stop


def test_a_hint_runs_the_turn_at_once(running: Running) -> None:
    schedule, a, b, told, stop = running
    schedule.hurry("a@x.com")
    a.wait_turns(2)
    stop.set()
    assert b.turns == 1, "only the hinted mailbox"
    assert told.count(("a@x.com", True)) == 1
    assert ("a@x.com", False) in told, "the first turn was the timetable's"


def test_hints_during_a_turn_are_one_more_turn(running: Running) -> None:
    schedule, a, _, _, stop = running
    a.block.clear()
    a.inside.clear()
    schedule.hurry("a@x.com")
    assert a.inside.wait(WAIT_S)  # the second turn runs and is held
    for _ in range(50):
        schedule.hurry("a@x.com")
    a.block.set()
    a.wait_turns(3)
    stop.set()
    with a.turned:
        a.turned.wait_for(lambda: a.turns > 3, 2 * HINT_SPACING_S)
    assert a.turns == 3, "fifty hints during one turn: one turn more"


def test_an_unknown_mailbox_hint_changes_nothing(running: Running) -> None:
    schedule, a, b, _, stop = running
    schedule.hurry("nobody@x.com")
    schedule.hurry("a@x.com")
    a.wait_turns(2)
    stop.set()
    assert b.turns == 1
