"""The fetcher's delta links: where each (mailbox, folder) Graph delta query left off.

A repository on the shared database (:mod:`libs.common.db`, table ``delta_state``).
"""

from __future__ import annotations

from sqlalchemy import delete, select

from libs.common.db import StoreBase, rows, upsert
from libs.common.db.schema import delta_state


class DeltaState(StoreBase):
    """Open with ``DeltaState.open(database_url)``; thread-safe, one transaction per call."""

    def get_cursor(self, mailbox: str, folder: str) -> str | None:
        with self._read() as conn:
            row = conn.execute(
                select(delta_state.c.cursor).where(
                    delta_state.c.mailbox == rows.norm_address(mailbox),
                    delta_state.c.folder == folder,
                )
            ).first()
        return str(row[0]) if row is not None else None

    def set_cursor(self, mailbox: str, folder: str, cursor: str) -> None:
        """Keep the newest link (last writer wins)."""
        values = {
            "mailbox": rows.norm_address(mailbox),
            "folder": folder,
            "cursor": cursor,
            "updated_at": self._clock(),
        }
        with self._write() as conn:
            upsert(conn, delta_state, ["mailbox", "folder"], values, ["cursor", "updated_at"])

    def clear_cursor(self, mailbox: str, folder: str) -> None:
        """Forget the link (Graph answered 410 ``SyncStateNotFound``): the next poll resyncs."""
        with self._write() as conn:
            conn.execute(
                delete(delta_state).where(
                    delta_state.c.mailbox == rows.norm_address(mailbox),
                    delta_state.c.folder == folder,
                )
            )
