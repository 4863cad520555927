"""What the console's live updates poll (docs/console.md, "Live updates"): a short,
opaque version of one record's page, which changes whenever its thread, status or assignment
does, read by one statement on indexed columns.

Polling the shared tables, rather than listening for the ticketer's events, works the same on
SQLite and PostgreSQL and for any number of console processes, and needs nothing of the
ticketer: every write that the record page shows moves ``records.updated_at`` (a new message,
a status or assignment change) or adds a message row, except a console reply's state, which
the sender's job log holds: the version reads those (a record has few) too."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Select, func, select

from libs.common.db._base import StoreBase
from libs.common.db.console_schema import record_replies
from libs.common.db.schema import record_messages, records, sent_jobs


def _version_query(record_id: int) -> Select[Any]:
    newest = (
        select(func.max(record_messages.c.id))
        .where(record_messages.c.record_id == record_id)
        .scalar_subquery()
    )
    return select(
        records.c.updated_at,
        records.c.status,
        records.c.assigned_to,
        records.c.message_count,
        newest.label("newest"),
    ).where(records.c.id == record_id)


def _replies_query(record_id: int) -> Select[Any]:
    return (
        select(record_replies.c.id, sent_jobs.c.status)
        .outerjoin(sent_jobs, sent_jobs.c.job_id == record_replies.c.job_id)
        .where(record_replies.c.record_id == record_id)
        .order_by(record_replies.c.id)
    )


class RecordVersions(StoreBase):
    """The version of each record's page, for the console's live updates."""

    def version(self, record_id: int) -> str | None:
        """16 hex digits that differ whenever the record's page would; ``None`` when there is
        no such record (any more)."""
        with self._read() as conn:
            row = conn.execute(_version_query(record_id)).first()
            replies = conn.execute(_replies_query(record_id)).all() if row is not None else []
        if row is None:
            return None
        parts = (row.updated_at.isoformat(), row.status, row.assigned_to, row.message_count)
        states = [f"{r.id}:{r.status}" for r in replies]
        seen = "|".join(str(p) for p in (*parts, row.newest, *states))
        return hashlib.sha256(seen.encode()).hexdigest()[:16]

    def newest_record(self) -> int:
        """The id of the newest record (0 when there is none): the list's live notice counts
        the records above the one its page saw (ids only grow, see schema.records)."""
        with self._read() as conn:
            return int(conn.execute(select(func.coalesce(func.max(records.c.id), 0))).scalar_one())

    def records_after(self, record_id: int) -> int:
        """How many records are newer than ``record_id`` (a range of the primary key)."""
        with self._read() as conn:
            query = select(func.count()).select_from(records).where(records.c.id > record_id)
            return int(conn.execute(query).scalar_one())
