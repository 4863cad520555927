"""Mailbox health on the shared database (table ``mailbox_health``, 0012): the fetcher writes
each mailbox's last poll (:mod:`services.fetcher.health`), the console reads it with the day's
records and the quarantine beside it (docs/console.md, "Health")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from libs.common.db._base import StoreBase
from libs.common.db.quarantine import WAITING
from libs.common.db.rows import norm_address
from libs.common.db.schema import quarantine, records
from libs.common.db.schema_health import mailbox_health

_CHANGED = [
    "last_success_at",
    "last_error_at",
    "error_code",
    "error_kind",
    "error_hint",
    "consecutive_errors",
    "waiting",
    "updated_at",
]


@dataclass(frozen=True)
class MailboxHealth:
    """One mailbox's last poll as the fetcher saw it."""

    mailbox: str
    last_success_at: datetime | None = None
    last_error_at: datetime | None = None
    #: The typed error's code and its one-line hint (never the message: no secret in it).
    error_code: str | None = None
    #: ``credential`` (refused), ``permanent`` or ``transient``.
    error_kind: str | None = None
    error_hint: str | None = None
    consecutive_errors: int = 0
    #: Mails the last round saw but could not publish yet.
    waiting: int = 0
    updated_at: datetime | None = None


class MailboxHealthStore(StoreBase):
    """Open with ``MailboxHealthStore.open(database_url)`` or on a repository's engine."""

    def save(self, rows: Iterable[MailboxHealth]) -> int:
        """Upsert every row in ONE transaction; how many were written."""
        now = self._clock()
        written = 0
        with self._write() as conn:
            for row in rows:
                values = {c: getattr(row, c) for c in _CHANGED}
                values.update(mailbox=norm_address(row.mailbox), updated_at=now)
                conn.execute(_upsert(conn.dialect.name, values))
                written += 1
        return written

    def all(self) -> dict[str, MailboxHealth]:
        """Every mailbox's row, by (normalised) address."""
        with self._read() as conn:
            found = conn.execute(select(mailbox_health)).mappings().all()
        return {str(r["mailbox"]): MailboxHealth(**dict(r)) for r in found}

    def records_since(self, since: datetime) -> dict[str, int]:
        """Records created since ``since``, per mailbox."""
        query = (
            select(records.c.mailbox, func.count())
            .where(records.c.created_at >= since)
            .group_by(records.c.mailbox)
        )
        return self._counts(query)

    def quarantined(self) -> dict[str, int]:
        """Mails in the quarantine neither replayed nor dropped yet, per mailbox."""
        query = (
            select(quarantine.c.mailbox, func.count())
            .where(*WAITING)
            .group_by(quarantine.c.mailbox)
        )
        return self._counts(query)

    def _counts(self, query: Select[Any]) -> dict[str, int]:
        with self._read() as conn:
            found = conn.execute(query).all()
        return {norm_address(str(mailbox)): int(count) for mailbox, count in found}


#: Times a fetcher does not know after its restart (``None`` in its memory) keep the stored ones.
_KEPT = ("last_success_at", "last_error_at")


def _upsert(dialect: str, values: dict[str, Any]) -> Insert:
    """Insert or update the mailbox's row; a ``None`` time keeps the stored time."""
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(mailbox_health)
    stmt = insert.values(**values)
    table = mailbox_health.c
    update = {
        c: func.coalesce(stmt.excluded[c], table[c]) if c in _KEPT else stmt.excluded[c]
        for c in _CHANGED
    }
    return stmt.on_conflict_do_update(index_elements=["mailbox"], set_=update)
