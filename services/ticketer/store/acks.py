"""The auto-acknowledgement rate log: at most ``limit`` acknowledgements per recipient and window.

The limit is the ticketer's (it decides whether to acknowledge), so the log lives with its store.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from libs.common.db import RACE_ROUNDS, StoreBase, rows
from libs.common.db.schema import ack_log


class Acks(StoreBase):
    def reserve_ack(
        self,
        job_id: str,
        *,
        mailbox: str,
        recipient: str,
        record_id: int | None,
        limit: int,
        window: timedelta = timedelta(hours=1),
    ) -> bool:
        """Reserve one auto-acknowledgement to ``recipient`` if fewer than ``limit`` went out
        in ``window``. Idempotent per ``job_id``: asking again answers ``True`` again."""
        recipient = rows.norm_address(recipient)
        for _ in range(RACE_ROUNDS):
            try:
                with self._write() as conn:
                    return self._reserve(conn, job_id, mailbox, recipient, record_id, limit, window)
            except IntegrityError:  # the same job id reserved concurrently: read it next round
                continue
        return False

    def _reserve(
        self,
        conn: Connection,
        job_id: str,
        mailbox: str,
        recipient: str,
        record_id: int | None,
        limit: int,
        window: timedelta,
    ) -> bool:
        if conn.dialect.name == "postgresql":
            # Serialise count-then-insert per recipient, so two ticketers cannot both take the
            # last slot (SQLite's BEGIN IMMEDIATE serialises all writers already).
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:r))"), {"r": recipient})
        if conn.execute(select(ack_log.c.id).where(ack_log.c.job_id == job_id)).first():
            return True
        now = self._clock()
        if _count(conn, recipient, now - window) >= limit:
            return False
        conn.execute(
            insert(ack_log).values(
                job_id=job_id,
                mailbox=rows.norm_address(mailbox),
                recipient=recipient,
                record_id=record_id,
                sent_at=now,
            )
        )
        return True

    def ack_reserved(self, job_id: str) -> bool:
        """Whether an acknowledgement was reserved under ``job_id``."""
        with self._read() as conn:
            return (
                conn.execute(select(ack_log.c.id).where(ack_log.c.job_id == job_id)).first()
                is not None
            )

    def count_acks_since(self, recipient: str, since: datetime) -> int:
        with self._read() as conn:
            return _count(conn, rows.norm_address(recipient), since)


def _count(conn: Connection, recipient: str, since: datetime) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(ack_log)
            .where(ack_log.c.recipient == recipient, ack_log.c.sent_at >= since)
        ).scalar_one()
    )
