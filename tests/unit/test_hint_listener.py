"""The hint listener on the in-memory broker of ``mailpipe run``: every hint heard once, an
unreadable one dropped without stopping it, a handler that fails does not stop it either."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from libs.common.broker import Broker, Names
from libs.common.broker.hints import HintListener
from libs.common.contracts import MailboxChanged

WAIT_S = 10.0


def hint(mailbox: str) -> MailboxChanged:
    return MailboxChanged(mailbox=mailbox, occurred_at=datetime.now(UTC))


@pytest.fixture
def heard() -> Iterator[tuple[Broker, queue.Queue[MailboxChanged]]]:
    broker = Broker("memory://", Names("hints"))
    broker.declare()
    got: queue.Queue[MailboxChanged] = queue.Queue()

    def handle(change: MailboxChanged) -> None:
        if change.mailbox.startswith("boom"):
            raise RuntimeError("a handler failed")
        got.put(change)

    listener = HintListener(broker.connection, broker.names, handle)
    stop = threading.Event()
    thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
    thread.start()
    assert listener.ready.wait(WAIT_S)
    yield broker, got
    stop.set()
    thread.join(WAIT_S)
    assert not thread.is_alive()
    broker.close()


def test_every_hint_is_heard_once_and_failures_do_not_stop_it(
    heard: tuple[Broker, queue.Queue[MailboxChanged]],
) -> None:
    broker, got = heard
    broker.publish_routed(hint("a@contoso.com"), correlation_id="1")
    with broker.connection() as conn:  # not a hint at all
        producer = conn.Producer()
        producer.publish(b"{nope", exchange=broker.names.events, routing_key="changed.x@y.com")
    broker.publish_routed(hint("boom@contoso.com"), correlation_id="2")
    broker.publish_routed(hint("b@contoso.com"), correlation_id="3")
    first, second = got.get(timeout=WAIT_S), got.get(timeout=WAIT_S)
    assert [first.mailbox, second.mailbox] == ["a@contoso.com", "b@contoso.com"]
    assert got.empty()
