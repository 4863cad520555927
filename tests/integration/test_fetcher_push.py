"""The fetcher and push on the simulator and RabbitMQ: a MailboxChanged hint runs a delta
round at once. The poll interval is an hour, so only the hint explains the mail reaching the
ticketer's queue; a hint of a mailbox not configured changes nothing.

The keeper subscribes against a plain local receiver (``tests/notify_receiver.py``, which
answers the simulator's validation handshake), so push is alive; the hints are published by
the test. The whole path (notification → endpoint → hint) is ``tests/e2e/test_push_e2e.py``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from libs.common.contracts import InboundEmail, MailboxChanged
from libs.common.push_settings import PushConfig
from services.fetcher.service import Fetcher
from tests.integration.fetcher_rig import SUPPORT, Rig, mail, until
from tests.notify_receiver import receiver

HOUR = 3600.0


@pytest.fixture
def pushed(lite: Rig) -> Iterator[Fetcher]:
    with receiver() as endpoint:
        push = PushConfig(public_url=endpoint.base_url, allow_http=True, safety_interval_s=HOUR)
        yield from _running(lite, push)


def _running(lite: Rig, push: PushConfig) -> Iterator[Fetcher]:
    config = lite.config(poll_interval_s=HOUR).model_copy(update={"push": push})
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
        assert fetcher.push is not None
        until(lambda: fetcher.push is not None and fetcher.push.status(SUPPORT) == "push alive", 30)
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
    assert check() == (True, "ok; push alive")
