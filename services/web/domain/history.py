"""A record's history in its thread (docs/console.md, "History"): each status or assignment
change as the words of its marker, placed among the mails by time, and the record's event
for other systems. Plain data in, plain data out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from libs.common.contracts import MAX_SUBJECT_CHARS, Address, RecordEvent

#: ``changed_by`` of a reopen by the ticketer (libs/common/db/schema_changes.py).
CUSTOMER_REPLY = "customer reply"

_STATUS_WORDS = {"open": "Reopened", "closed": "Closed", "pending": "Set to pending"}


@dataclass(frozen=True)
class Marker:
    """One change as the thread shows it."""

    id: int
    at: datetime
    kind: str
    text: str


def marker_text(kind: str, old: str, new: str, by: str) -> str:
    """``Closed by alice``, ``Reopened by a customer reply``, ``Assigned to bob by alice``."""
    who = "a customer reply" if by == CUSTOMER_REPLY else by
    if kind == "status":
        words = _STATUS_WORDS.get(new, f"Set to {new}")
        return f"{words} by {who}"
    if new:
        return f"Assigned to {new} by {who}"
    return f"Unassigned from {old} by {who}" if old else f"Unassigned by {who}"


def timeline(messages: Sequence[Any], markers: Sequence[Marker], when: str) -> list[Any]:
    """``messages`` (each timed by its attribute ``when``, or its first item's) and
    ``markers`` in one list by time; a mail before a change at the same moment."""
    timed = [(_time(m, when), 0, i, m) for i, m in enumerate(messages)]
    timed += [(k.at, 1, i, k) for i, k in enumerate(markers)]
    return [item for *_, item in sorted(timed, key=lambda t: (t[0], t[1], t[2]))]


def value_at(history: Sequence[Any], change: Any, kind: str, today: str) -> str:
    """The record's ``kind`` (``status``, or ``assigned``: a username, "" for nobody) just
    after ``change``, from its history rows and ``today``'s value: the last change of that
    kind up to it, else what the first one after it found, else today's. So an event
    published late says the record as the change left it, not as it is by then."""
    same = sorted((c for c in history if c.kind == kind), key=lambda c: c.id)
    upto = [c for c in same if c.id <= change.id]
    if upto:
        return str(upto[-1].new_value)
    later = [c for c in same if c.id > change.id]
    return str(later[0].old_value) if later else today


def _time(item: Any, when: str) -> datetime:
    found = getattr(item, when, None)
    value: datetime = found if found is not None else getattr(item[0], when)
    return value


def change_event(
    record: Mapping[str, Any], kind: str, assignee: str | None, by: str, now: datetime
) -> RecordEvent:
    """The RecordEvent of an agent's change of ``record`` (its row after the change)."""
    return RecordEvent(
        event="updated",
        record_id=record["id"],
        mailbox=record["mailbox"],
        subject=str(record.get("subject") or "")[:MAX_SUBJECT_CHARS],
        requester=_requester(record),
        status=record["status"],
        message_count=record["message_count"],
        change="status" if kind == "status" else "assigned",
        assigned_to=assignee or None,
        changed_by=by,
        occurred_at=now,
    )


def _requester(record: Mapping[str, Any]) -> Address | None:
    """The record's requester as a contract address; one the contract refuses is left out."""
    address = record.get("requester_address")
    if not address:
        return None
    try:
        return Address(address=address, name=record.get("requester_name") or "")
    except ValueError:  # pydantic's ValidationError
        return None
