"""Several fetchers on one configuration (real RabbitMQ, the simulator): each mailbox is
polled by exactly one of them, the mailboxes spread evenly over them; when one stops, another
takes its mailboxes over, and mail is published once, before and after."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from amqp.exceptions import NotFound
from kombu import Connection
from structlog.testing import capture_logs

from libs.common.broker import Broker, mailbox_leases
from libs.common.broker.lease import LeaseKeeper
from libs.common.broker.leasebook import LeaseBook
from libs.graphsim.testing import SimHandle
from services.fetcher.poller import MailboxPoller, RoundResult
from services.fetcher.service import Fetcher
from tests.broker_helpers import namespaced_broker
from tests.integration.fetcher_rig import HELPDESK, SUPPORT, Rig, mail, open_rig, until

BOXES = [f"box{n}@contoso.com" for n in range(3)]
TEN = [f"box{n}@contoso.com" for n in range(10)]


@pytest.fixture
def rig(sim: SimHandle, amqp_url: str, namespace: str, tmp_path: Path) -> Iterator[Rig]:
    database_url = f"sqlite:///{tmp_path / 'state.db'}"
    with open_rig(sim, amqp_url, namespace, database_url, tmp_path / "blobs") as made:
        yield made


class Running:
    """Loops on their own threads until :meth:`stop`."""

    def __init__(self, loops: list[tuple[str, Callable[[], None]]], stop: threading.Event) -> None:
        self._stop = stop
        self._threads = [threading.Thread(target=fn, name=name) for name, fn in loops]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)
        assert not any(t.is_alive() for t in self._threads), "a loop did not stop"


@contextmanager
def running(loops: list[tuple[str, Callable[[], None]]], stop: threading.Event) -> Iterator[None]:
    run = Running(loops, stop)
    try:
        yield
    finally:
        run.stop()


def keeper(
    broker: Broker, opened: list[Connection] | None = None, boxes: list[str] = BOXES
) -> tuple[LeaseBook, LeaseKeeper]:
    def connect(heartbeat_s: float) -> Connection:
        conn = broker.connection(heartbeat_s)
        if opened is not None:
            opened.append(conn)
        return conn

    book, keep = mailbox_leases(
        connect,
        broker.names,
        boxes,
        memory=False,
        heartbeat_s=30,
        poll_interval_s=1.0,
    )
    assert isinstance(book, LeaseBook) and keep is not None
    return book, keep


def fewest_consumers(broker: Broker, boxes: list[str]) -> int:
    """The fewest consumers of any of these mailboxes' lease queues (0: one is missing)."""
    with broker.connection() as conn:
        channel = conn.channel()
        try:
            return min(
                channel.queue_declare(broker.names.fetcher_lease(box), passive=True).consumer_count
                for box in boxes
            )
        except NotFound:
            return 0


def owners(books: list[LeaseBook]) -> dict[str, list[int]]:
    return {box: [i for i, b in enumerate(books) if b.held(box)] for box in BOXES}


def held(book: LeaseBook, boxes: list[str] = TEN) -> set[str]:
    return {box for box in boxes if book.held(box)}


class Overlaps:
    """Samples the books on a thread until stopped: any mailbox held by two at once.

    The books are read in order and back in reverse, so the second of each pair is read while
    the first is read holding the mailbox before and after: a token that moved between two
    reads does not count."""

    def __init__(self, books: list[LeaseBook]) -> None:
        self.found: set[str] = set()
        self.samples = 0
        self._books = books
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="overlaps")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            before = [held(b) for b in self._books]
            after = [held(b) for b in reversed(self._books)][::-1]
            for i, first in enumerate(before):
                for j in range(i + 1, len(before)):
                    self.found |= first & after[i] & (before[j] | after[j])
            self.samples += 1

    def stop(self) -> set[str]:
        self._stop.set()
        self._thread.join(timeout=30)
        assert self.samples > 0
        return self.found


def test_a_fetcher_that_joins_later_takes_half_and_gets_all_back_when_the_other_stops(
    amqp_url: str, namespace: str
) -> None:
    with namespaced_broker(amqp_url, namespace) as broker:
        (book_a, keep_a), (book_b, keep_b) = keeper(broker, boxes=TEN), keeper(broker, boxes=TEN)
        stop_a, stop_b = threading.Event(), threading.Event()
        overlaps = Overlaps([book_a, book_b])
        try:
            with running([("a", lambda: keep_a.run(stop_a))], stop_a):
                until(lambda: held(book_a) == set(TEN))
                with running([("b", lambda: keep_b.run(stop_b))], stop_b):
                    until(lambda: len(held(book_a)) == len(held(book_b)) == 5)
                    assert held(book_a) | held(book_b) == set(TEN)
                    settled = held(book_a)
                    for _ in range(3):  # and there it stays, refresh after refresh
                        until(lambda: held(book_a) == settled and len(held(book_b)) == 5)
                # b stopped: a takes back the five it handed on
                until(lambda: held(book_a) == set(TEN))
        finally:
            assert overlaps.stop() == set(), "no mailbox held by both at once"


def test_three_fetchers_split_ten_mailboxes(amqp_url: str, namespace: str) -> None:
    with namespaced_broker(amqp_url, namespace) as broker:
        made = [keeper(broker, boxes=TEN) for _ in range(3)]
        books = [book for book, _ in made]
        stops = [threading.Event() for _ in made]
        overlaps = Overlaps(books)
        runs: list[Running] = []
        try:
            runs.append(Running([("k0", partial(made[0][1].run, stops[0]))], stops[0]))
            until(lambda: held(books[0]) == set(TEN))
            # Two join: the first hands on its excess, and whoever is then over hands on again.
            for n in (1, 2):
                runs.append(Running([(f"k{n}", partial(made[n][1].run, stops[n]))], stops[n]))
            until(lambda: all(0 < len(held(b)) <= 4 for b in books))
            until(lambda: sum(len(held(b)) for b in books) == 10)
            assert set().union(*(held(b) for b in books)) == set(TEN)
        finally:
            for run in runs:
                run.stop()
            assert overlaps.stop() == set(), "no mailbox held by two at once"


def _lease_reconnected(logs: list[MutableMapping[str, Any]]) -> bool:
    return any(e.get("event") == "mailbox leases lost the broker; reconnecting" for e in logs)


def test_every_mailbox_has_exactly_one_holder_and_a_stopped_holder_hands_over(
    amqp_url: str, namespace: str
) -> None:
    with namespaced_broker(amqp_url, namespace) as broker:
        (book_a, keep_a), (book_b, keep_b) = keeper(broker), keeper(broker)
        stop_a, stop_b = threading.Event(), threading.Event()
        with running([("b", lambda: keep_b.run(stop_b))], stop_b):
            with running([("a", lambda: keep_a.run(stop_a))], stop_a):
                # Three mailboxes over two: one holds two, the other one.
                until(lambda: all(len(o) == 1 for o in owners([book_a, book_b]).values()))
                until(lambda: sorted([len(held(b, BOXES)) for b in (book_a, book_b)]) == [1, 2])
                # Offers go on every refresh; the holders stay the same, unless the broker
                # itself broke a lease queue: RabbitMQ 3.10-3.11 can crash a classic queue with
                # a single active consumer while tokens move (rabbitmq-server#5460,
                # docs/deployment.md). The keepers then reconnect, and the mailboxes may
                # change hands: still one holder each, which is what is checked then.
                before = owners([book_a, book_b])
                with capture_logs() as logs:
                    for _ in range(3):
                        until(
                            lambda: owners([book_a, book_b]) == before or _lease_reconnected(logs)
                        )
                    if _lease_reconnected(logs):
                        until(lambda: all(len(o) == 1 for o in owners([book_a, book_b]).values()))
            # a stopped: its tokens went back, b is handed every mailbox
            until(lambda: owners([book_a, book_b]) == {box: [1] for box in BOXES})
            assert not any(book_a.held(box) for box in BOXES)


def test_a_holder_whose_connection_breaks_loses_its_mailboxes_to_the_other(
    amqp_url: str, namespace: str
) -> None:
    with namespaced_broker(amqp_url, namespace) as broker:
        opened: list[Connection] = []
        (book_a, keep_a), (book_b, keep_b) = keeper(broker, opened), keeper(broker)
        stop_a, stop_b = threading.Event(), threading.Event()
        with running([("a", lambda: keep_a.run(stop_a))], stop_a):
            until(lambda: all(owners([book_a]).values()))
            with running([("b", lambda: keep_b.run(stop_b))], stop_b):
                # b in every queue's line first: else a, back sooner, would simply retake all.
                until(lambda: fewest_consumers(broker, BOXES) == 2)
                assert len(opened) == 1
                # The socket cut under a's session, as a crashed host's would be: the broker
                # sees the connection close and makes b active; a reconnects as the standby.
                opened[0].connection.sock.shutdown(socket.SHUT_RDWR)
                until(lambda: owners([book_a, book_b]) == {box: [1] for box in BOXES})
                until(lambda: len(opened) == 2)  # a is back, last in line: b hands it its share
                until(lambda: len(held(book_a, BOXES)) == 1 and len(held(book_b, BOXES)) == 2)
                assert all(len(o) == 1 for o in owners([book_a, book_b]).values())


class Rounds:
    """Rounds run per (fetcher, mailbox), counted around each poller's ``poll``."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[int, str]] = Counter()
        self._lock = threading.Lock()

    def watch(self, index: int, poller: MailboxPoller) -> None:
        poll = poller.poll

        def counted() -> RoundResult | None:
            with self._lock:
                self.counts[(index, poller.address)] += 1
            return poll()

        poller.poll = counted  # type: ignore[method-assign]

    def mark(self) -> Counter[tuple[int, str]]:
        with self._lock:
            return Counter(self.counts)

    def pollers_of(self, mailbox: str, since: Counter[tuple[int, str]] | None = None) -> set[int]:
        before = since or Counter()
        with self._lock:
            return {
                i for (i, box), n in self.counts.items() if box == mailbox and n > before[(i, box)]
            }

    def total(self, mailbox: str, since: Counter[tuple[int, str]] | None = None) -> int:
        before = since or Counter()
        with self._lock:
            return sum(
                n - before[(i, box)] for (i, box), n in self.counts.items() if box == mailbox
            )


def fetchers(rig: Rig, rounds: Rounds) -> list[Fetcher]:
    config = rig.config(poll_interval_s=0.2)
    made = [rig.fetcher(config), rig.fetcher(config)]
    for index, fetcher in enumerate(made):
        for poller in fetcher.pollers:
            rounds.watch(index, poller)
    return made


def published_ids(rig: Rig, seen: list[str]) -> Callable[[], set[str]]:
    def read() -> set[str]:
        seen.extend(e.message_id for e in rig.inbound())
        return set(seen)

    return read


def spread(made: list[Fetcher], boxes: tuple[str, ...]) -> bool:
    """Each fetcher holds exactly one of the mailboxes."""
    books = [f.lease for f in made]
    assert all(isinstance(b, LeaseBook) for b in books)
    return all(
        len({box for box in boxes if b.held(box)}) == 1 for b in books if isinstance(b, LeaseBook)
    )


def test_two_fetchers_poll_each_mailbox_once_and_one_takes_over_when_the_other_stops(
    rig: Rig,
) -> None:
    boxes = (SUPPORT, HELPDESK)
    seeded = {rig.seed(mail(n), mailbox=SUPPORT) for n in range(3)}
    seeded |= {rig.seed(mail(10 + n, to=HELPDESK), mailbox=HELPDESK) for n in range(3)}
    rounds = Rounds()
    seen: list[str] = []
    published = published_ids(rig, seen)
    made = fetchers(rig, rounds)
    stops = [threading.Event() for _ in made]
    runs = [Running(f.loops(stop), stop) for f, stop in zip(made, stops, strict=True)]
    try:
        until(lambda: published() >= seeded)
        # Two mailboxes over two fetchers: one each, once the first has handed one on.
        until(lambda: spread(made, boxes))
        mark = rounds.mark()
        until(lambda: all(rounds.total(box, since=mark) >= 3 for box in boxes))
        owner = {box: rounds.pollers_of(box, since=mark) for box in boxes}
        sim_rounds = rig.stats()["delta_rounds"]
        counted = {box: rounds.total(box) for box in boxes}
        assert all(len(o) == 1 for o in owner.values()), f"one poller per mailbox: {owner}"
        assert owner[SUPPORT] != owner[HELPDESK], f"each fetcher polls one: {owner}"
        # Every delta round the simulator saw came from the one owner: not doubled (a round
        # is counted here before its first request).
        assert all(sim_rounds[box] <= counted[box] for box in boxes), (sim_rounds, counted)
        # The owner of SUPPORT stops: the other fetcher polls every mailbox from now on.
        (gone,) = owner[SUPPORT]
        runs[gone].stop()
        later = {rig.seed(mail(20 + n), mailbox=SUPPORT) for n in range(2)}
        later |= {rig.seed(mail(30 + n, to=HELPDESK), mailbox=HELPDESK) for n in range(2)}
        until(lambda: published() >= seeded | later)
        until(lambda: all(1 - gone in rounds.pollers_of(box) for box in boxes))
    finally:
        for run in runs:
            run.stop()
    assert published() == seeded | later
    duplicates = {i: n for i, n in Counter(seen).items() if n > 1}
    assert duplicates == {}, "every mail published once"
    assert rig.stats()["max_open_delta_rounds"] == {SUPPORT: 1, HELPDESK: 1}, "never two at once"
