"""Quarantine and the requester cache."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Row

from libs.common.db import StoreBase, rows, upsert
from libs.common.db.quarantine import WAITING, mark_dropped_in, mark_replayed_in
from libs.common.db.schema import quarantine, requesters
from services.ticketer.store import _rows
from services.ticketer.store.errors import RecordNotFound
from services.ticketer.store.models import QuarantineRow, Requester


class Operations(StoreBase):
    # -- quarantine (written by EmailWrites.quarantine_email) --------------------------------

    def list_quarantine(
        self, *, mailbox: str | None = None, include_replayed: bool = False
    ) -> list[QuarantineRow]:
        """Entries oldest first; those replayed or dropped only with ``include_replayed``."""
        query = select(quarantine).order_by(quarantine.c.id)
        if mailbox is not None:
            query = query.where(quarantine.c.mailbox == rows.norm_address(mailbox))
        if not include_replayed:
            query = query.where(*WAITING)
        with self._read() as conn:
            return [_rows.quarantine_row(r) for r in conn.execute(query)]

    def get_quarantine(self, quarantine_id: int) -> QuarantineRow | None:
        with self._read() as conn:
            row = conn.execute(select(quarantine).where(quarantine.c.id == quarantine_id)).first()
        return _rows.quarantine_row(row) if row is not None else None

    def mark_replayed(self, quarantine_id: int) -> QuarantineRow:
        """Mark an entry replayed and forget the email's ``quarantined`` outcome.

        Call this *before* moving the mail back to the inbox: once the log row is gone the
        ticketer handles the mail afresh instead of quarantining it again. Idempotent.
        """
        with self._write() as conn:
            return mark_replayed_in(conn, self._entry(conn, quarantine_id), self._clock())

    def mark_dropped(self, quarantine_id: int, by: str, note: str = "") -> QuarantineRow:
        """Mark an entry dropped by ``by`` with an optional ``note``. Idempotent."""
        with self._write() as conn:
            row = self._entry(conn, quarantine_id)
            return mark_dropped_in(conn, row, self._clock(), by, note)

    @staticmethod
    def _entry(conn: Connection, quarantine_id: int) -> Row[Any]:
        row = conn.execute(select(quarantine).where(quarantine.c.id == quarantine_id)).first()
        if row is None:
            raise RecordNotFound(
                f"quarantine entry {quarantine_id} does not exist",
                hint="list the entries with `mailpipe quarantine list --all`",
            )
        return row

    # -- requester cache ---------------------------------------------------------------------

    def get_requester(self, address: str) -> Requester | None:
        with self._read() as conn:
            row = conn.execute(
                select(requesters).where(requesters.c.address == rows.norm_address(address))
            ).first()
        return _rows.requester(row) if row is not None else None

    def put_requester(self, requester: Requester) -> None:
        """Insert or refresh a cached Graph user lookup (last writer wins)."""
        values = {**requester.__dict__, "address": rows.norm_address(requester.address)}
        columns = [c for c in values if c != "address"]
        with self._write() as conn:
            upsert(conn, requesters, ["address"], values, columns)
