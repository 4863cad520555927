"""The quarantine entries, read and replayed by the ticketer's store and by the console.

The ticketer writes an entry when it gives up on a mail (and moves the mail into the mailbox's
quarantine folder); ``mailpipe quarantine`` and the console's ``/quarantine`` page read them and
mark one replayed or dropped (not wanted: kept as history, with who, when and why). Marking
one replayed forgets the email's ``quarantined`` outcome in the same transaction, so the
fetcher handles the mail afresh once it is moved back (docs/records.md).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from libs.common.db._base import StoreBase
from libs.common.db.errors import StoreError
from libs.common.db.rows import mapping, norm_address
from libs.common.db.schema import processed_log, quarantine


@dataclass(frozen=True)
class QuarantineRow:
    id: int
    mailbox: str
    provider: str
    message_id: str
    folder: str
    internet_message_id: str | None
    subject: str
    reason: str
    detail: str
    attempts: int
    created_at: datetime
    replayed_at: datetime | None
    dropped_at: datetime | None
    dropped_by: str | None
    drop_note: str | None

    @property
    def state(self) -> str:
        """``waiting``, ``replayed`` or ``dropped``."""
        if self.dropped_at is not None:
            return "dropped"
        return "replayed" if self.replayed_at is not None else "waiting"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "mailbox": self.mailbox,
            "provider": self.provider,
            "message_id": self.message_id,
            "folder": self.folder,
            "internet_message_id": self.internet_message_id,
            "subject": self.subject,
            "reason": self.reason,
            "detail": self.detail,
            "attempts": self.attempts,
            "created_at": self.created_at.isoformat(),
            "replayed_at": self.replayed_at.isoformat() if self.replayed_at else None,
            "state": self.state,
            "dropped_at": self.dropped_at.isoformat() if self.dropped_at else None,
            "dropped_by": self.dropped_by,
            "drop_note": self.drop_note,
        }


class QuarantineEntryMissing(StoreError):
    code = "quarantine_entry_missing"


class EntryDropped(StoreError):
    code = "quarantine_entry_dropped"


def refuse_dropped(entry: QuarantineRow, undone: str = "replayed") -> None:
    """Raise :class:`EntryDropped` when ``entry`` was dropped: its mail is deleted."""
    if entry.dropped_at is not None:
        raise EntryDropped(
            f"quarantine entry {entry.id} was dropped by {entry.dropped_by} on "
            f"{entry.dropped_at:%Y-%m-%d %H:%M} UTC and cannot be {undone}",
            hint="its mail was deleted from the quarantine folder; "
            "restore it from Recoverable Items if it is wanted after all",
        )


class EntryReplayed(StoreError):
    code = "quarantine_entry_replayed"


def refuse_decided(entry: QuarantineRow) -> None:
    """Raise when ``entry`` was replayed or dropped already: there is nothing left to drop."""
    refuse_dropped(entry, "dropped again")
    if entry.replayed_at is not None:
        raise EntryReplayed(
            f"quarantine entry {entry.id} was replayed on "
            f"{entry.replayed_at:%Y-%m-%d %H:%M} UTC and cannot be dropped",
            hint="its mail is back in the mailbox; delete it there if it is not wanted",
        )


def quarantine_row(row: Row[Any]) -> QuarantineRow:
    r = mapping(row)
    return QuarantineRow(**{f.name: r[f.name] for f in fields(QuarantineRow)})


def mark_replayed_in(conn: Connection, row: Row[Any], now: datetime) -> QuarantineRow:
    """Mark the entry ``row`` replayed (once) and forget its ``quarantined`` outcome; an
    entry dropped meanwhile is refused."""
    refuse_dropped(quarantine_row(row))
    if row.replayed_at is None:
        conn.execute(update(quarantine).where(quarantine.c.id == row.id).values(replayed_at=now))
    conn.execute(
        delete(processed_log).where(
            processed_log.c.mailbox == row.mailbox,
            processed_log.c.message_id == row.message_id,
            processed_log.c.outcome == "quarantined",
        )
    )
    return quarantine_row(conn.execute(select(quarantine).where(quarantine.c.id == row.id)).one())


def mark_dropped_in(
    conn: Connection, row: Row[Any], now: datetime, by: str, note: str
) -> QuarantineRow:
    """Mark the entry ``row`` dropped by ``by`` (once: a second drop changes nothing); an entry
    replayed meanwhile is refused."""
    if row.dropped_at is None:
        refuse_decided(quarantine_row(row))
        conn.execute(
            update(quarantine)
            .where(quarantine.c.id == row.id)
            .values(dropped_at=now, dropped_by=by, drop_note=note or None)
        )
    return quarantine_row(conn.execute(select(quarantine).where(quarantine.c.id == row.id)).one())


#: The entries still waiting for a decision: neither replayed nor dropped.
WAITING = (quarantine.c.replayed_at.is_(None), quarantine.c.dropped_at.is_(None))


class QuarantineBook(StoreBase):
    """The console's view of the quarantine: newest first, a page at a time."""

    def page(
        self, offset: int, limit: int, *, mailbox: str = "", reason: str = "", dropped: bool = False
    ) -> tuple[list[QuarantineRow], int]:
        """Entries waiting (or, ``dropped``, those dropped), newest first, and how many there
        are in all."""
        where: list[ColumnElement[bool]] = (
            [quarantine.c.dropped_at.is_not(None)] if dropped else list(WAITING)
        )
        if mailbox:
            where.append(quarantine.c.mailbox == norm_address(mailbox))
        if reason:
            where.append(quarantine.c.reason == reason)
        query = select(quarantine).where(*where).order_by(quarantine.c.id.desc())
        with self._read() as conn:
            found = conn.execute(query.offset(offset).limit(limit)).all()
            total = conn.execute(select(func.count()).select_from(quarantine).where(*where))
            return [quarantine_row(r) for r in found], int(total.scalar_one())

    def choices(self, *, dropped: bool = False) -> tuple[list[str], list[str]]:
        """The mailboxes and the reasons of the entries waiting (or dropped), for the filters."""
        where = (quarantine.c.dropped_at.is_not(None),) if dropped else WAITING
        with self._read() as conn:
            boxes = conn.execute(select(quarantine.c.mailbox).where(*where).distinct())
            reasons = conn.execute(select(quarantine.c.reason).where(*where).distinct())
            return sorted(r[0] for r in boxes), sorted(r[0] for r in reasons)

    def get(self, entry_id: int) -> QuarantineRow | None:
        with self._read() as conn:
            row = conn.execute(select(quarantine).where(quarantine.c.id == entry_id)).first()
        return quarantine_row(row) if row is not None else None

    def mark_replayed(self, entry_id: int) -> QuarantineRow:
        with self._write() as conn:
            return mark_replayed_in(conn, _existing(conn, entry_id), self._clock())

    def mark_dropped(self, entry_id: int, by: str, note: str = "") -> QuarantineRow:
        with self._write() as conn:
            return mark_dropped_in(conn, _existing(conn, entry_id), self._clock(), by, note)


def _existing(conn: Connection, entry_id: int) -> Row[Any]:
    row = conn.execute(select(quarantine).where(quarantine.c.id == entry_id)).first()
    if row is None:
        raise QuarantineEntryMissing(
            f"quarantine entry {entry_id} does not exist",
            hint="reload the quarantine list: the entry may have been replayed or dropped already",
        )
    return row
