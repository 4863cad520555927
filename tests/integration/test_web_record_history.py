"""A record's status and assignment history in the console (docs/console.md, "History"):
each agent's change is a history row and a marker among the mails, in order, with who made
it; a customer reply that reopens a record (stored as the ticketer stores it) is a marker too;
Bob's open page gets each new marker live; and each agent's change is published as a
RecordEvent v2 on the events exchange after its commit (a test queue bound to it). A publish
that fails is counted, the change kept. SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from kombu import Exchange, Queue
from prometheus_client import REGISTRY

from libs.common.broker import Broker
from libs.common.contracts import RecordEvent
from libs.common.db.record_changes import RecordChanges
from services.web.changes import broker_announcer
from tests.broker_helpers import drain, names_for
from tests.db_fixtures import inbound
from tests.integration.test_web_record_events import (
    Rig,
    _events_url,
    _watched_while_alice_posts,
    rig,
)
from tests.integration.test_web_records import Ticking
from tests.live_server import Events
from tests.web_rig import csrf_of

__all__ = ["rig"]

_MARKER = re.compile(r'<span class="change-text"><bdi dir="auto">([^<]*)</bdi></span>')


def _markers(html: str) -> list[str]:
    return _MARKER.findall(html)


def _post(rig: Rig, who: str, record_id: int, form: str, data: dict[str, str]) -> None:
    with rig.session(who) as client:
        token = csrf_of(client.get(f"/records/{record_id}").text)
        done = client.post(f"/records/{record_id}/{form}", data={**data, "csrf_token": token})
        assert done.status_code == 303


def _one_clock(rig: Rig) -> Ticking:
    """The rig's ticking clock for the console's changes too (one clock, as in production),
    at a time after the mails of inbound(n) for n < 10 were received."""
    ticking = rig.store._clock
    assert isinstance(ticking, Ticking)
    ticking.now = datetime(2026, 11, 1, 9, 10, tzinfo=UTC)
    rig.app.state.changes.changes._clock = ticking
    return ticking


def _user_id(rig: Rig, username: str) -> int:
    return next(u.id for u in rig.console.store.users() if u.username == username)


def test_changes_are_markers_among_the_mails_in_order(rig: Rig) -> None:
    record_id = rig.record(1)
    ticking = _one_clock(rig)
    _post(rig, "alice", record_id, "assign", {"assigned_to": str(_user_id(rig, "bob"))})
    _post(rig, "alice", record_id, "status", {"status": "closed"})
    _post(rig, "alice", record_id, "status", {"status": "closed"})  # no change: no marker
    reply = inbound(30, kind="reply", subject="Still broken")
    ticking.now = reply.received_at  # the reply arrives after the close, is stored just after
    rig.store.append_message(record_id, reply)
    _post(rig, "bob", record_id, "status", {"status": "pending"})
    with rig.session("bob") as bob:
        page = bob.get(f"/records/{record_id}").text
    assert _markers(page) == [
        "Assigned to bob by alice",
        "Closed by alice",
        "Reopened by a customer reply",
        "Set to pending by bob",
    ]
    # The reply comes before the reopen it caused; the request before everything.
    thread = page[page.index('id="thread"') :]
    assert thread.index("Request (inbound)") < thread.index("Assigned to bob")
    assert thread.index("Still broken") < thread.index("Reopened by a customer reply")
    assert thread.index("Reopened by") < thread.index("Set to pending")
    rows = RecordChanges(rig.store.engine).history(record_id)
    assert [(r.kind, r.old_value, r.new_value, r.changed_by) for r in rows] == [
        ("assigned", "", "bob", "alice"),
        ("status", "open", "closed", "alice"),
        ("status", "closed", "open", "customer reply"),
        ("status", "open", "pending", "bob"),
    ]
    events = rig.console.events
    assert [(e.change, e.status, e.assigned_to, e.changed_by) for e in events] == [
        ("assigned", "open", "bob", "alice"),
        ("status", "closed", "bob", "alice"),
        ("status", "pending", "bob", "bob"),
    ]


def test_a_change_by_another_agent_arrives_live_as_a_marker(rig: Rig) -> None:
    record_id = rig.record(1)
    got = _watched_while_alice_posts(rig, record_id, "status", {"status": "closed"})
    assert _markers(got.data["thread"]) == ["Closed by alice"]
    got = _watched_while_alice_posts(rig, record_id, "assign", {"assigned_to": ""})
    assert _markers(got.data["thread"]) == ["Closed by alice"]  # nobody already: nothing new
    bob_id = str(_user_id(rig, "bob"))
    got = _watched_while_alice_posts(rig, record_id, "assign", {"assigned_to": bob_id})
    assert _markers(got.data["thread"]) == ["Closed by alice", "Assigned to bob by alice"]


def test_a_customer_reply_reopening_arrives_live_as_a_marker(rig: Rig) -> None:
    record_id = rig.record(1)
    rig.store.set_status(record_id, "closed")
    with rig.session("bob") as bob:
        url = _events_url(bob, record_id)
        with bob.stream("GET", url) as response:
            events = Events(response)
            rig.store.append_message(record_id, inbound(2, kind="reply", subject="Again"))
            got = events.until("record")
    assert got.data["status"] == "open" and got.data["messages"] == 2
    assert _markers(got.data["thread"]) == ["Reopened by a customer reply"]
    assert got.data["thread"].index("Again") < got.data["thread"].index("Reopened by")


@pytest.fixture
def events_queue(amqp_url: str, namespace: str) -> Iterator[tuple[Broker, str]]:
    """A queue bound to the namespace's events exchange for ``record.#``."""
    broker = Broker(amqp_url, names_for(namespace))
    broker.declare()
    name = f"{namespace}.test.events.{uuid.uuid4().hex[:6]}"
    conn = broker.connection()
    try:
        conn.connect()
        exchange = Exchange(broker.names.events, type="topic", durable=True)
        Queue(name, exchange, routing_key="record.#", durable=False).bind(conn.channel()).declare()
        yield broker, name
        conn.channel().queue_delete(name)
    finally:
        conn.release()
        broker.close()
        broker.delete()


def test_agents_changes_are_published_on_the_events_exchange(
    rig: Rig, events_queue: tuple[Broker, str], amqp_url: str
) -> None:
    broker, queue = events_queue
    rig.console.announce = broker_announcer(amqp_url, broker.names)
    rig.app.state.changes._announce = rig.console.announcer()
    record_id = rig.record(1)
    _post(rig, "bob", record_id, "status", {"status": "closed"})
    _post(rig, "bob", record_id, "assign", {"assigned_to": str(_user_id(rig, "alice"))})
    got = [RecordEvent.from_json(m.body) for m in drain(broker, queue)]
    assert [(e.record_id, e.event, e.change, e.status) for e in got] == [
        (record_id, "updated", "status", "closed"),
        (record_id, "updated", "assigned", "closed"),
    ]
    assert [(e.assigned_to, e.changed_by) for e in got] == [(None, "bob"), ("alice", "bob")]
    assert all(e.SCHEMA == "mailpipe.record_event.v2" for e in got)


def _unpublished(change: str) -> float:
    found = REGISTRY.get_sample_value(
        "mailpipe_console_events_unpublished_total", {"change": change}
    )
    return found or 0.0


def test_a_failed_publish_is_counted_kept_and_published_later_in_order(rig: Rig) -> None:
    def refuse(event: RecordEvent) -> None:
        raise ConnectionError("the broker is down")

    desk = rig.app.state.changes
    desk._announce = refuse
    record_id = rig.record(1)
    before = _unpublished("status")
    _post(rig, "bob", record_id, "status", {"status": "closed"})
    _post(rig, "bob", record_id, "status", {"status": "pending"})
    assert _unpublished("status") == before + 2
    history = RecordChanges(rig.store.engine)
    rows = history.history(record_id)
    assert [(r.new_value, r.changed_by) for r in rows] == [("closed", "bob"), ("pending", "bob")]
    assert len(history.unannounced()) == 2 and rig.console.events == []
    # The broker is back: the next change publishes itself, then the two before, in order.
    desk._announce = rig.console.announcer()
    _post(rig, "alice", record_id, "assign", {"assigned_to": str(_user_id(rig, "bob"))})
    said = [(e.change, e.status, e.assigned_to, e.changed_by) for e in rig.console.events]
    # Each retried event says the record as its change left it (nobody was assigned yet),
    # at the time of the change, not of the retry.
    assert said == [
        ("assigned", "pending", "bob", "alice"),
        ("status", "closed", None, "bob"),
        ("status", "pending", None, "bob"),
    ]
    rows = history.history(record_id)
    assert [e.occurred_at for e in rig.console.events] == [
        r.changed_at for r in rows[2:] + rows[:2]
    ]
    assert history.unannounced() == [] and desk.publish_pending() == 0
    # A customer reply's reopen is said by the ticketer's own event: never the console's.
    rig.store.append_message(record_id, inbound(2, kind="reply"))
    assert history.unannounced() == [] and len(rig.console.events) == 3
