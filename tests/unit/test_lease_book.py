"""The lease book: a mailbox is held only with its token and a recent word from the broker;
rounds start only on a held mailbox and are counted; stopping lets no new round start."""

from __future__ import annotations

import threading

from libs.common.broker.lease import MIN_HEARTBEAT_S, lease_heartbeat_s
from libs.common.broker.leasebook import LeaseBook, Unshared


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def book(clock: Clock) -> LeaseBook:
    return LeaseBook(stale_after_s=3.0, ticks=clock)


def test_held_needs_the_token_and_a_fresh_connection() -> None:
    clock = Clock()
    leases = book(clock)
    assert not leases.held("a")
    leases.heard()
    assert not leases.held("a"), "no token yet: another fetcher is the active consumer"
    leases.granted("a")
    assert leases.held("a") and not leases.held("b")
    clock.now += 3.5
    assert not leases.held("a"), "silent broker: the broker may have given the token away"
    leases.heard()
    assert leases.held("a")
    leases.lost()
    assert not leases.held("a") and leases.tokens() == frozenset()


def test_a_round_runs_only_on_a_held_mailbox_and_is_counted() -> None:
    clock = Clock()
    leases = book(clock)
    leases.heard()
    with leases.round("a") as ours:
        assert not ours
    assert leases.idle()
    leases.granted("a")
    with leases.round("a") as ours:
        assert ours
        assert not leases.idle()
    assert leases.idle()


def test_closing_stops_new_rounds_and_wakes_waiters() -> None:
    clock = Clock()
    leases = book(clock)
    leases.heard()
    leases.granted("a")
    stop = threading.Event()
    leases.close()
    assert not leases.wait("a", stop, timeout_s=30.0)
    with leases.round("a") as ours:
        assert not ours
    leases.reopen()
    assert leases.wait("a", stop, timeout_s=0.0)


def test_a_waiting_poller_wakes_when_the_token_arrives() -> None:
    leases = LeaseBook(stale_after_s=60.0)
    leases.heard()
    stop = threading.Event()
    got: list[bool] = []
    waiter = threading.Thread(target=lambda: got.append(leases.wait("a", stop, 60.0)))
    waiter.start()
    leases.granted("a")
    waiter.join(timeout=30)
    assert got == [True]


def test_wait_ends_on_stop() -> None:
    leases = LeaseBook(stale_after_s=60.0)
    stop = threading.Event()
    stop.set()
    assert not leases.wait("a", stop, timeout_s=60.0)


def test_unshared_owns_everything() -> None:
    stop = threading.Event()
    unshared = Unshared()
    assert unshared.wait("a", stop, 1.0)
    with unshared.round("a") as ours:
        assert ours


def test_lease_heartbeat_fits_the_poll_interval() -> None:
    assert lease_heartbeat_s(30, 10) == 10
    assert lease_heartbeat_s(30, 60) == 30
    assert lease_heartbeat_s(0, 20) == 20, "heartbeats off elsewhere: on here"
    assert lease_heartbeat_s(30, 0.2) == MIN_HEARTBEAT_S


def test_a_mailbox_being_handed_back_starts_no_round_and_waits_for_its_rounds() -> None:
    clock = Clock()
    leases = book(clock)
    leases.heard()
    leases.granted("a")
    leases.granted("b")
    with leases.round("a") as ours:
        assert ours
        leases.release("a")
        assert leases.busy("a"), "the round in flight ends before the token goes"
        assert not leases.held("a") and leases.held("b")
        with leases.round("a") as again:
            assert not again
    assert not leases.busy("a")
    assert leases.releasing() == frozenset({"a"})
    leases.dropped("a")
    assert leases.tokens() == frozenset({"b"}) and leases.releasing() == frozenset()
    leases.release("b")
    leases.lost()
    assert leases.releasing() == frozenset()


def test_a_kept_mailbox_survives_a_silent_moment_not_a_hand_back() -> None:
    clock = Clock()
    leases = book(clock)
    leases.heard()
    assert not leases.keeps("a")
    leases.granted("a")
    clock.now += 3.5
    assert leases.keeps("a") and not leases.held("a"), "stale: no round, the subscription stays"
    leases.release("a")
    assert not leases.keeps("a"), "being handed back"
    leases.dropped("a")
    leases.granted("b")
    leases.lost()
    assert not leases.keeps("a") and not leases.keeps("b")
    assert Unshared().keeps("a")
