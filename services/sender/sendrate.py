"""The mailbox's send slots in the shared database: one sending rate across every sender.

A repository on the shared database (:mod:`libs.common.db`, table ``send_slots``). Taking a
slot is one write transaction: on PostgreSQL an advisory lock on the mailbox serialises the
takers (SQLite's ``BEGIN IMMEDIATE`` serialises every writer), the time is the database's
(``clock_timestamp()``; SQLite is one file on one host, so the host's clock), the slots of the
last window are counted (:func:`~services.sender.domain.rate.slot_wait`), and either one is
inserted or the caller learns how long to wait. After the send, :meth:`SendSlots.stamp` moves
the slot to the time the send ended, so that it is counted where Exchange counts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.engine import Connection

from libs.common.db import StoreBase
from libs.common.db.schema import send_slots
from services.sender.domain.rate import RateLimit, slot_wait

#: The first key of the advisory lock (the second is the mailbox's hash): apart from every
#: other lock on the database (the migration's, the ticketer's acknowledgements').
SLOT_LOCK_SPACE = 0x53_4C_4F_54  # "SLOT"


@dataclass(frozen=True)
class SlotAnswer:
    """A slot taken (``slot_id``), or how long to wait before asking again (``wait_s``)."""

    slot_id: int | None
    wait_s: float


class SendSlotsPort(Protocol):
    """What the sender needs of the slots (:class:`SendSlots`; a fake in unit tests)."""

    def take(self, mailbox: str, rate: RateLimit) -> SlotAnswer: ...

    def stamp(self, slot_id: int) -> None: ...


class SendSlots(StoreBase):
    """Open with ``SendSlots.open(database_url)``; thread-safe, one transaction per call."""

    def take(self, mailbox: str, rate: RateLimit) -> SlotAnswer:
        """Take a slot of ``mailbox`` when its last window has room; else how long to wait."""
        mailbox = mailbox.lower()
        with self._write() as conn:
            now = self._now(conn, lock=mailbox)
            cutoff = now - timedelta(seconds=rate.window_s)
            # Slots of finished windows go as they are passed; the index keeps this cheap.
            conn.execute(
                delete(send_slots).where(
                    send_slots.c.mailbox == mailbox, send_slots.c.sent_at <= cutoff
                )
            )
            times = conn.execute(
                select(send_slots.c.sent_at).where(send_slots.c.mailbox == mailbox)
            ).scalars()
            wait = slot_wait((t.timestamp() for t in times), now.timestamp(), rate)
            if wait > 0:
                return SlotAnswer(None, wait)
            slot_id = conn.execute(
                insert(send_slots).values(mailbox=mailbox, sent_at=now).returning(send_slots.c.id)
            ).scalar_one()
            return SlotAnswer(int(slot_id), 0.0)

    def stamp(self, slot_id: int) -> None:
        """The send of ``slot_id`` ended: count it from now."""
        with self._write() as conn:
            now = self._now(conn)
            conn.execute(update(send_slots).where(send_slots.c.id == slot_id).values(sent_at=now))

    def count(self, mailbox: str) -> int:
        """Slots of ``mailbox`` not yet pruned (for tests and the operator)."""
        with self._read() as conn:
            query = select(func.count()).where(send_slots.c.mailbox == mailbox.lower())
            return int(conn.execute(query).scalar_one())

    def _now(self, conn: Connection, *, lock: str | None = None) -> datetime:
        if conn.dialect.name != "postgresql":
            return self._clock()
        if lock is not None:  # held until the transaction ends
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:space, hashtext(:mailbox))"),
                {"space": SLOT_LOCK_SPACE, "mailbox": lock},
            )
        # After the lock: the time the count is made, not the time the wait began.
        now: datetime = conn.execute(select(func.clock_timestamp())).scalar_one()
        return now
