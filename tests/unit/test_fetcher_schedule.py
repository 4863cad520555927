"""The fetcher's schedule: a few threads run every mailbox's turns when due, a mailbox never
runs two turns at once, a failing turn does not drop its mailbox, and stop ends the workers."""

from __future__ import annotations

import threading
import time

from services.fetcher.schedule import PollSchedule


class Box:
    def __init__(self, address: str, delay: float = 0.01, fail: bool = False) -> None:
        self.address = address
        self.delay = delay
        self.fail = fail
        self.turns = 0
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def turn(self) -> float:
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.turns += 1
        time.sleep(0.002)
        with self._lock:
            self.running -= 1
        if self.fail:
            raise RuntimeError("boom")
        return self.delay


def run_for(schedule: PollSchedule, seconds: float) -> None:
    stop = threading.Event()
    workers = [
        threading.Thread(target=schedule.worker, args=(stop,), name=f"poll-{n}")
        for n in range(schedule.threads)
    ]
    for w in workers:
        w.start()
    time.sleep(seconds)
    stop.set()
    for w in workers:
        w.join(timeout=5)
        assert not w.is_alive(), "a worker did not stop"


def test_threads_are_at_most_the_mailboxes_and_at_least_one() -> None:
    assert PollSchedule([Box("a"), Box("b")], threads=50).threads == 2
    assert PollSchedule([Box(f"m{n}") for n in range(200)], threads=50).threads == 50
    assert PollSchedule([Box("a")], threads=0).threads == 1


def test_every_mailbox_gets_turns_and_never_two_at_once() -> None:
    boxes = [Box(f"m{n}") for n in range(40)]
    schedule = PollSchedule(boxes, threads=4)
    run_for(schedule, 0.5)

    assert all(b.turns >= 3 for b in boxes), sorted(b.turns for b in boxes)
    assert all(b.most_at_once == 1 for b in boxes)


def test_a_mailbox_is_not_turned_before_it_is_due() -> None:
    slow, fast = Box("slow", delay=10.0), Box("fast", delay=0.01)
    run_for(PollSchedule([slow, fast], threads=2), 0.4)

    assert slow.turns == 1  # due again only after 10 s
    assert fast.turns >= 5


def test_a_turn_that_raises_keeps_its_mailbox_in_the_schedule() -> None:
    broken = Box("broken", fail=True)
    run_for(PollSchedule([broken], threads=1), 1.2)

    assert broken.turns >= 2


def test_an_added_mailbox_gets_turns_and_a_retired_one_stops() -> None:
    kept, gone, new = Box("kept"), Box("gone"), Box("new")
    schedule = PollSchedule([kept, gone], threads=2)
    stop = threading.Event()
    workers = [threading.Thread(target=schedule.worker, args=(stop,)) for _ in range(2)]
    for w in workers:
        w.start()
    try:
        time.sleep(0.2)
        schedule.retire(gone)
        schedule.add(new)
        time.sleep(0.05)  # a turn of ``gone`` running at the retire finishes
        turns_at_retire = gone.turns
        time.sleep(0.3)
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=5)
    assert gone.turns == turns_at_retire and turns_at_retire >= 1
    assert new.turns >= 5 and kept.turns >= 10


def test_a_poller_retired_during_its_turn_is_not_put_back() -> None:
    box = Box("busy")
    schedule = PollSchedule([box], threads=1)
    taken = schedule._take(threading.Event())
    assert taken is box
    schedule.retire(box)  # out with a worker: dropped when the turn ends
    schedule._put(box, 0.0)
    assert schedule._due == []


def test_a_replaced_poller_takes_the_place_of_the_old_one() -> None:
    old, new = Box("box"), Box("box")
    schedule = PollSchedule([old], threads=1)
    schedule.replace(old, new)  # waiting in the timetable: swapped in place
    assert [entry[2] for entry in schedule._due] == [new]
    taken = schedule._take(threading.Event())
    assert taken is new
    newer = Box("box")
    schedule.replace(new, newer)  # out with a worker: its successor goes back in its place
    schedule._put(new, 5.0)
    assert [entry[2] for entry in schedule._due] == [newer]
