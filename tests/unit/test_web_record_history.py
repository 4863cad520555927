"""The pure parts of a record's history (services/web/domain/history.py): the words of each
marker, the markers placed among the mails by time, the RecordEvent of an agent's change,
and RecordEvent v2 beside v1 (a v1 read as v2; v2 said as v1 where it can be)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from libs.common.contracts import RecordEvent, RecordEventV1
from libs.common.db.schema_changes import CUSTOMER_REPLY as STORED
from services.web.domain.history import (
    CUSTOMER_REPLY,
    Marker,
    change_event,
    marker_text,
    timeline,
    value_at,
)

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "old", "new", "by", "text"),
    [
        ("status", "closed", "open", CUSTOMER_REPLY, "Reopened by a customer reply"),
        ("status", "open", "closed", "alice", "Closed by alice"),
        ("status", "open", "pending", "bob", "Set to pending by bob"),
        ("status", "pending", "open", "bob", "Reopened by bob"),
        ("assigned", "", "bob", "alice", "Assigned to bob by alice"),
        ("assigned", "bob", "carol", "alice", "Assigned to carol by alice"),
        ("assigned", "bob", "", "alice", "Unassigned from bob by alice"),
    ],
)
def test_marker_words(kind: str, old: str, new: str, by: str, text: str) -> None:
    assert marker_text(kind, old, new, by) == text


def test_the_ticketers_reopen_is_named_as_the_history_stores_it() -> None:
    assert CUSTOMER_REPLY == STORED


@dataclass(frozen=True)
class Mail:
    name: str
    received_at: datetime


def _marker(n: int, minutes: int) -> Marker:
    return Marker(n, T0 + timedelta(minutes=minutes), "status", f"change {n}")


def test_markers_go_among_the_mails_by_time_a_mail_first_at_the_same_moment() -> None:
    first, second = Mail("first", T0), Mail("second", T0 + timedelta(minutes=5))
    thread = [(first, ""), (second, "<p>html</p>")]
    markers = [_marker(1, 2), _marker(2, 5), _marker(3, 9)]
    got = timeline(thread, markers, "received_at")
    names = [i.text if isinstance(i, Marker) else i[0].name for i in got]
    assert names == ["first", "change 1", "second", "change 2", "change 3"]
    assert timeline([], markers, "received_at") == markers
    assert timeline(thread, [], "received_at") == thread


RECORD = {
    "id": 7,
    "mailbox": "help@example.com",
    "subject": "Printer",
    "requester_address": "ann@example.org",
    "requester_name": "Ann",
    "status": "closed",
    "message_count": 3,
    "assigned_to": 2,
}


def test_the_event_of_an_agents_change() -> None:
    event = change_event(RECORD, "status", "bob", "alice", T0)
    assert (event.event, event.change, event.status) == ("updated", "status", "closed")
    assert (event.assigned_to, event.changed_by, event.record_id) == ("bob", "alice", 7)
    assert event.requester is not None and event.requester.address == "ann@example.org"
    nobody = change_event(
        {**RECORD, "requester_address": "not an address"}, "assigned", "", "a", T0
    )
    assert (nobody.change, nobody.assigned_to, nobody.requester) == ("assigned", None, None)
    # An agent's change cannot be said in v1: a consumer not yet upgraded is not sent it as v1.
    assert event.downgrade() is None
    assert RecordEvent.from_json(event.to_json()) == event


@dataclass(frozen=True)
class Row:
    """A history row's fields that ``value_at`` reads."""

    id: int
    kind: str
    old_value: str
    new_value: str


def _row(id: int, kind: str, old: str, new: str) -> Row:
    return Row(id, kind, old, new)


def test_a_late_event_says_the_record_as_the_change_left_it() -> None:
    closed, assigned = _row(1, "status", "open", "closed"), _row(2, "assigned", "", "bob")
    pending, unassigned = _row(3, "status", "closed", "pending"), _row(4, "assigned", "bob", "")
    rows = [closed, assigned, pending, unassigned]
    # Today: pending, nobody. Each change, published late, says what it left.
    assert value_at(rows, closed, "status", "pending") == "closed"
    assert value_at(rows, closed, "assigned", "") == "", "bob came after it"
    assert value_at(rows, assigned, "status", "pending") == "closed"
    assert value_at(rows, assigned, "assigned", "") == "bob"
    assert value_at(rows, unassigned, "status", "pending") == "pending"
    # Nothing of that kind in the history at all: the record's value today.
    assert value_at([closed], closed, "assigned", "carol") == "carol"
    # The history's order is by id, whatever order the rows come in.
    assert value_at(list(reversed(rows)), assigned, "assigned", "") == "bob"


def test_v1_is_read_as_v2_and_a_mail_change_said_as_v1() -> None:
    v1 = RecordEventV1(
        event="updated",
        record_id=7,
        mailbox="help@example.com",
        message_count=2,
        change="reply",
        occurred_at=T0,
    )
    read = RecordEvent.from_json(v1.to_json())
    assert isinstance(read, RecordEvent)
    assert (read.change, read.assigned_to, read.changed_by) == ("reply", None, "")
    back = read.downgrade()
    assert back == v1
