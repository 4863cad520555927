"""The fetcher and push on the simulator and RabbitMQ: a MailboxChanged hint runs a delta
round at once. The poll interval is an hour, so only the hint explains the mail reaching the
ticketer's queue; a hint of a mailbox not configured changes nothing.

The simulator's ``/subscriptions`` routes come with issue 18 point 4: until then the keeper's
subscribe is refused here and the mailbox keeps its (hour-long) interval, which is what the
test needs; the whole path (subscription → notification → endpoint → hint) is the e2e test
after the merge."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from libs.common.contracts import InboundEmail, MailboxChanged
from libs.common.push_settings import PushConfig
from services.fetcher.service import Fetcher
from tests.integration.fetcher_rig import SUPPORT, Rig, mail, until

HOUR = 3600.0
PUSH = PushConfig(public_url="https://hooks.example.com/graph", safety_interval_s=HOUR)


@pytest.fixture
def pushed(lite: Rig) -> Iterator[Fetcher]:
    config = lite.config(poll_interval_s=HOUR).model_copy(update={"push": PUSH})
    fetcher = Fetcher(config, lite.broker, lite.state, lite.blobs)
    lite.made.append(fetcher)
    stop = threading.Event()
    threads = [threading.Thread(target=fn, name=name) for name, fn in fetcher.loops(stop)]
    for thread in threads:
        thread.start()
    try:
        assert fetcher.hints is not None and fetcher.hints.ready.wait(30)
        poller = next(p for p in fetcher.pollers if p.address == SUPPORT)
        until(lambda: poller.status.detail == "ok", 30)  # the first round, at start
        yield fetcher
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)


def hint(rig: Rig, mailbox: str = SUPPORT) -> None:
    change = MailboxChanged(
        mailbox=mailbox, reason="created", subscription_id="sub-x", occurred_at=datetime.now(UTC)
    )
    rig.broker.publish_routed(change, correlation_id="sub-x")


def received(rig: Rig, got: list[InboundEmail], n: int) -> bool:
    got.extend(rig.inbound())
    return len(got) >= n


def test_a_hint_runs_a_delta_round_at_once(lite: Rig, pushed: Fetcher) -> None:
    got: list[InboundEmail] = []
    assert not received(lite, got, 1)
    first = lite.seed(mail(1))
    hint(lite)
    until(lambda: received(lite, got, 1), 30)
    second = lite.seed(mail(2))
    hint(lite)
    until(lambda: received(lite, got, 2), 30)
    assert [e.message_id for e in got] == [first, second], "each once, in order"


def test_a_hint_of_another_mailbox_runs_nothing(lite: Rig, pushed: Fetcher) -> None:
    got: list[InboundEmail] = []
    lite.seed(mail(3))
    hint(lite, "nobody@contoso.com")
    hint(lite, SUPPORT)  # then one of ours: its round reads the mail, once
    until(lambda: received(lite, got, 1), 30)
    assert len(got) == 1


def test_the_health_line_says_how_push_stands(lite: Rig, pushed: Fetcher) -> None:
    check = pushed.checks()[f"mailbox:{SUPPORT}"]
    # Refused until the simulator serves /subscriptions (then alive): polled either way.
    until(lambda: "push off" in check()[1] or "push alive" in check()[1], 30)
    assert check()[0] is True
