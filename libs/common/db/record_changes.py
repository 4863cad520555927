"""The console's status and assignment changes with their history (docs/console.md,
"History"): each change updates ``records`` and adds its ``record_changes`` row in ONE
transaction, and says what it did (:class:`Changed`, for the record's event, published after
the commit). The ticketer writes the rows of a customer reply's reopen itself
(services/ticketer/store/_create.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from libs.common.db._base import StoreBase
from libs.common.db.console_schema import console_users
from libs.common.db.schema import records
from libs.common.db.schema_changes import CUSTOMER_REPLY, record_changes

__all__ = ["CUSTOMER_REPLY", "ChangeView", "Changed", "RecordChanges"]


@dataclass(frozen=True)
class ChangeView:
    """One row of a record's history."""

    id: int
    record_id: int
    changed_at: datetime
    #: ``status`` or ``assigned``.
    kind: str
    old_value: str
    new_value: str
    #: An agent's username, or :data:`CUSTOMER_REPLY`.
    changed_by: str


@dataclass(frozen=True)
class Changed:
    """What a console change did: the record after it and the row it added (``None``: the
    value was already so, nothing was written)."""

    record: dict[str, Any]
    change: ChangeView | None
    #: The username the record is assigned to after the change ("" for nobody).
    assignee: str = ""


class RecordChanges(StoreBase):
    """Status and assignment changes made in the console, and every record's history."""

    def set_status(self, record_id: int, status: str, by: str, user_id: int) -> Changed | None:
        """``None`` when there is no such record."""
        return self._change(record_id, "status", status, by, user_id)

    def assign(self, record_id: int, assignee: int | None, by: str, user_id: int) -> Changed | None:
        """Assign the record to console user ``assignee`` (``None``: nobody)."""
        return self._change(record_id, "assigned", assignee, by, user_id)

    def history(self, record_id: int) -> list[ChangeView]:
        """The record's changes, oldest first."""
        query = (
            select(record_changes)
            .where(record_changes.c.record_id == record_id)
            .order_by(record_changes.c.changed_at, record_changes.c.id)
        )
        with self._read() as conn:
            return [_view(r) for r in conn.execute(query)]

    def unannounced(self, limit: int = 50) -> list[Changed]:
        """Console changes whose RecordEvent is not published yet, oldest first, each with its
        record as it is now (a change of a deleted record is gone with it)."""
        query = (
            select(record_changes, records.c.assigned_to.label("assignee_id"))
            .join(records, records.c.id == record_changes.c.record_id)
            .where(record_changes.c.announced_at.is_(None))
            .order_by(record_changes.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            found = conn.execute(query).all()
            lines = {r.record_id: _record(conn, r.record_id) for r in found}
            return [
                Changed(lines[r.record_id], _view(r), _shown(conn, "assigned", r.assignee_id))
                for r in found
            ]

    def announced(self, change_id: int) -> None:
        """The change's RecordEvent is published (or can never be: not retried)."""
        with self._write() as conn:
            conn.execute(
                update(record_changes)
                .where(record_changes.c.id == change_id)
                .values(announced_at=self._clock())
            )

    def _change(
        self, record_id: int, kind: str, value: Any, by: str, user_id: int
    ) -> Changed | None:
        column = "status" if kind == "status" else "assigned_to"
        with self._write() as conn:
            now = self._clock()
            # The row is locked (PostgreSQL) by the update before its old value is read back.
            done = conn.execute(
                update(records).where(records.c.id == record_id).values(updated_at=now)
            )
            if not done.rowcount:
                return None
            before = _record(conn, record_id)
            if before[column] == value:
                return Changed(before, None, _shown(conn, "assigned", before["assigned_to"]))
            conn.execute(update(records).where(records.c.id == record_id).values({column: value}))
            row = {
                "record_id": record_id,
                "changed_at": now,
                "kind": kind,
                "old_value": _shown(conn, kind, before[column]),
                "new_value": _shown(conn, kind, value),
                "changed_by": by,
                "user_id": user_id,
            }
            added = conn.execute(record_changes.insert().values(row)).inserted_primary_key
            assert added is not None, "an insert without its primary key"
            after = {**before, column: value}
            assignee = _shown(conn, "assigned", after["assigned_to"])
            return Changed(after, _view({**row, "id": int(added[0])}), assignee)


def _record(conn: Connection, record_id: int) -> dict[str, Any]:
    return dict(conn.execute(select(records).where(records.c.id == record_id)).one()._mapping)


def _shown(conn: Connection, kind: str, value: Any) -> str:
    """A status as it is; an assignee by username ("" for nobody), as it is now."""
    if kind == "status" or value is None:
        return str(value or "")
    name = conn.execute(select(console_users.c.username).where(console_users.c.id == value))
    return str(name.scalar_one_or_none() or f"user {value}")


def _view(row: Any) -> ChangeView:
    values: dict[str, Any] = row if isinstance(row, dict) else dict(row._mapping)
    return ChangeView(**{name: values[name] for name in ChangeView.__dataclass_fields__})
