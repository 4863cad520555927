"""The console's side of the record store (docs/console.md, "Records"): records a page at a
time with search, filters and counts per status; one record's thread in order with its
attachments; the requester's directory profile.

It reads the ticketer's tables (``records``, ``record_messages``, ``record_attachments``,
``delivery_failures``, ``requesters``) and writes nothing: the console may not import the
ticketer. Status and assignment changes, with their history, are
:mod:`libs.common.db.record_changes`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select

from libs.common.db._base import StoreBase
from libs.common.db.schema import (
    delivery_failures,
    record_attachments,
    record_messages,
    records,
    requesters,
)

STATUSES = ("open", "pending", "closed")


@dataclass(frozen=True)
class RecordLine:
    """One record as the list and the record's page show it."""

    id: int
    mailbox: str
    subject: str
    requester_address: str | None
    requester_name: str
    status: str
    message_count: int
    assigned_to: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AttachmentView:
    """An attachment; ``number`` is its place on the record (1, 2, …), as its URL names it."""

    number: int
    name: str
    content_type: str
    sha256: str
    size: int
    inline: bool
    #: The part's Content-ID, as an ``<img src="cid:…">`` of the message's HTML names it.
    content_id: str | None = None


@dataclass(frozen=True)
class MessageView:
    """One message of a thread; ``body_html`` is as stored, never sanitised here."""

    id: int
    direction: str
    kind: str
    from_address: str | None
    from_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    body_text: str | None
    body_html: str | None
    received_at: datetime
    attachments: tuple[AttachmentView, ...]
    failures: tuple[str, ...]


@dataclass(frozen=True)
class RecordQuery:
    """What the list is asked for; empty strings ask for everything."""

    search: str = ""
    status: str = ""
    mailbox: str = ""
    #: ``"me"`` (assigned to ``user_id``), ``"none"`` (unassigned) or ``""``.
    assigned: str = ""
    user_id: int | None = None


def _parties(value: Any) -> tuple[str, ...]:
    out = []
    for party in value or ():
        address, name = party.get("address", ""), party.get("name", "")
        out.append(f"{name} <{address}>" if name else address)
    return tuple(out)


def _conditions(query: RecordQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.search:
        # The words are text, not a pattern: % and _ match only themselves.
        escaped = query.search.lower().replace("\\", "\\\\").replace("%", "\\%")
        like = "%" + escaped.replace("_", "\\_") + "%"
        columns = (
            records.c.subject,
            func.coalesce(records.c.requester_address, ""),
            records.c.requester_name,
            records.c.status,
            records.c.mailbox,
        )
        where.append(or_(*(func.lower(c).like(like, escape="\\") for c in columns)))
    if query.status in STATUSES:
        where.append(records.c.status == query.status)
    if query.mailbox:
        where.append(records.c.mailbox == query.mailbox.lower())
    if query.assigned == "me":
        where.append(records.c.assigned_to == (query.user_id or 0))
    elif query.assigned == "none":
        where.append(records.c.assigned_to.is_(None))
    return where


def _line(row: Any) -> RecordLine:
    return RecordLine(**{name: getattr(row, name) for name in RecordLine.__dataclass_fields__})


def _lines() -> Select[Any]:
    return select(*(records.c[name] for name in RecordLine.__dataclass_fields__))


class RecordViews(StoreBase):
    """The records as the console reads and changes them."""

    def page(self, query: RecordQuery, offset: int, limit: int) -> tuple[list[RecordLine], int]:
        """A page of records, newest activity first, and how many match in all."""
        where = and_(True, *_conditions(query))
        with self._read() as conn:
            total = conn.execute(select(func.count()).select_from(records).where(where))
            rows = conn.execute(
                _lines()
                .where(where)
                .order_by(records.c.updated_at.desc(), records.c.id.desc())
                .offset(offset)
                .limit(limit)
            )
            return [_line(r) for r in rows], int(total.scalar_one())

    def counts(self) -> dict[str, int]:
        """How many records there are in each status (every status named, zero or not)."""
        with self._read() as conn:
            rows = conn.execute(select(records.c.status, func.count()).group_by(records.c.status))
            found = {status: int(n) for status, n in rows}
        return {status: found.get(status, 0) for status in STATUSES}

    def mailboxes(self) -> list[str]:
        with self._read() as conn:
            rows = conn.execute(select(records.c.mailbox).distinct().order_by(records.c.mailbox))
            return [r for (r,) in rows]

    def get(self, record_id: int) -> RecordLine | None:
        with self._read() as conn:
            row = conn.execute(_lines().where(records.c.id == record_id)).first()
        return _line(row) if row is not None else None

    def thread(self, record_id: int) -> list[MessageView]:
        """The record's messages in the order they were received (then stored)."""
        with self._read() as conn:
            messages = conn.execute(
                select(record_messages)
                .where(record_messages.c.record_id == record_id)
                .order_by(record_messages.c.received_at, record_messages.c.id)
            ).all()
            files = self._attachments(conn, record_id)
            failed = conn.execute(
                select(delivery_failures).where(delivery_failures.c.record_id == record_id)
            ).all()
        return [_message(m, files, failed) for m in messages]

    def attachments(self, record_id: int) -> list[AttachmentView]:
        """Every attachment of the record, numbered 1, 2, … in thread order."""
        with self._read() as conn:
            return [a for _, a in self._attachments(conn, record_id)]

    @staticmethod
    def _attachments(conn: Any, record_id: int) -> list[tuple[int, AttachmentView]]:
        rows = conn.execute(
            select(record_attachments, record_messages.c.id.label("mid"))
            .join(record_messages, record_messages.c.id == record_attachments.c.message_id)
            .where(record_messages.c.record_id == record_id)
            .order_by(record_messages.c.received_at, record_messages.c.id, record_attachments.c.id)
        ).all()
        return [
            (
                r.mid,
                AttachmentView(n, r.name, r.content_type, r.sha256, r.size, r.inline, r.content_id),
            )
            for n, r in enumerate(rows, start=1)
        ]

    def requester(self, address: str | None) -> dict[str, Any] | None:
        """The directory profile the ticketer stored for ``address``, if any."""
        if not address:
            return None
        with self._read() as conn:
            row = conn.execute(
                select(requesters).where(requesters.c.address == address.lower())
            ).first()
        return dict(row._mapping) if row is not None else None


def _message(m: Any, files: list[tuple[int, AttachmentView]], failed: Sequence[Any]) -> MessageView:
    return MessageView(
        id=m.id,
        direction=m.direction,
        kind=m.kind,
        from_address=m.from_address,
        from_name=m.from_name,
        to=_parties(m.to),
        cc=_parties(m.cc),
        subject=m.subject,
        body_text=m.body_text,
        body_html=m.body_html,
        received_at=m.received_at,
        attachments=tuple(a for mid, a in files if mid == m.id),
        failures=tuple(
            f"{f.recipient} {f.status} {f.diagnostic}".strip()
            for f in failed
            if f.message_id == m.id
        ),
    )
