"""The fetcher's cursors: where each (mailbox, folder) read of changes left off.

A repository on the shared database (:mod:`libs.common.db`, table ``mail_cursors``). A cursor
is the provider's own opaque token (Graph's delta link): stored and handed back, never read.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import delete, select

from libs.common.db import StoreBase, rows, upsert
from libs.common.db.schema import mail_cursors


class Cursors(Protocol):
    """What the poller needs of the cursors' store (:class:`MailCursors` on the database)."""

    def get_cursor(self, mailbox: str, folder: str) -> str | None: ...

    def set_cursor(self, mailbox: str, folder: str, cursor: str, *, provider: str) -> None: ...


class MailCursors(StoreBase):
    """Open with ``MailCursors.open(database_url)``; thread-safe, one transaction per call."""

    def get_cursor(self, mailbox: str, folder: str) -> str | None:
        with self._read() as conn:
            row = conn.execute(
                select(mail_cursors.c.cursor).where(
                    mail_cursors.c.mailbox == rows.norm_address(mailbox),
                    mail_cursors.c.folder == folder,
                )
            ).first()
        return str(row[0]) if row is not None else None

    def set_cursor(self, mailbox: str, folder: str, cursor: str, *, provider: str) -> None:
        """Keep the newest cursor (last writer wins)."""
        values = {
            "mailbox": rows.norm_address(mailbox),
            "folder": folder,
            "provider": provider,
            "cursor": cursor,
            "updated_at": self._clock(),
        }
        with self._write() as conn:
            changed = ["provider", "cursor", "updated_at"]
            upsert(conn, mail_cursors, ["mailbox", "folder"], values, changed)

    def clear_cursor(self, mailbox: str, folder: str) -> None:
        """Forget the cursor (the provider says it expired): the next poll reads afresh."""
        with self._write() as conn:
            conn.execute(
                delete(mail_cursors).where(
                    mail_cursors.c.mailbox == rows.norm_address(mailbox),
                    mail_cursors.c.folder == folder,
                )
            )
