"""Mailbox leases follow integration changes (``LeaseKeeper.use``, real RabbitMQ): a mailbox
added to two running fetchers gets its lease queue and exactly one holder; a removed one is
given up by its holder and its queue is no longer consumed, and the others stay shared."""

from __future__ import annotations

import threading

from libs.common.broker.leasebook import LeaseBook
from tests.broker_helpers import namespaced_broker
from tests.integration.fetcher_rig import until
from tests.integration.test_fetcher_leases import BOXES, fewest_consumers, keeper, running

ADDED = "added@contoso.com"


def holders(books: list[LeaseBook], box: str) -> list[int]:
    return [n for n, book in enumerate(books) if book.held(box)]


def test_an_added_mailbox_gets_one_holder_and_a_removed_one_is_given_up(
    amqp_url: str, namespace: str
) -> None:
    with namespaced_broker(amqp_url, namespace) as broker:
        (book_a, keep_a), (book_b, keep_b) = keeper(broker), keeper(broker)
        books = [book_a, book_b]
        stop = threading.Event()
        with running([("a", lambda: keep_a.run(stop)), ("b", lambda: keep_b.run(stop))], stop):
            until(lambda: all(len(holders(books, box)) == 1 for box in BOXES))
            for keep in (keep_a, keep_b):
                keep.use([*BOXES, ADDED])
            until(lambda: len(holders(books, ADDED)) == 1)
            until(lambda: fewest_consumers(broker, [ADDED]) == 2)  # both in its line

            removed = BOXES[0]
            for keep in (keep_a, keep_b):
                keep.use([*BOXES[1:], ADDED])
            until(lambda: holders(books, removed) == [])
            until(lambda: fewest_consumers(broker, [removed]) == 0)  # the queue is gone
            for box in [*BOXES[1:], ADDED]:  # the others keep exactly one holder
                until(lambda box=box: len(holders(books, box)) == 1)


def test_a_mailbox_removed_and_added_again_before_it_was_given_up_stays_leased(
    amqp_url: str, namespace: str
) -> None:
    with namespaced_broker(amqp_url, namespace) as broker:
        book, keep = keeper(broker)
        stop = threading.Event()
        with running([("a", lambda: keep.run(stop))], stop):
            until(lambda: all(book.held(box) for box in BOXES))
            with book.round(BOXES[0]) as ours:  # a round in flight holds the give-up back
                assert ours
                keep.use(BOXES[1:])
                until(lambda: not book.held(BOXES[0]))  # released: no new round starts
                keep.use(BOXES)  # configured again before it was given up
            until(lambda: all(book.held(box) for box in BOXES))
            assert fewest_consumers(broker, BOXES) == 1
