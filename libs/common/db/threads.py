"""Read-only: the Message-IDs of a record's thread, for the In-Reply-To and References of a
reply the sender builds. The sender must not import the ticketer, so this small query lives
with the shared database layer; the ticketer remains the only writer of records.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from libs.common.db._base import StoreBase
from libs.common.db.rows import norm_mid
from libs.common.db.schema import record_messages, records

#: Inbound kinds a reply answers; notes, auto-replies and bounces are not what we answer.
_ANSWERABLE = ("request", "reply")


@dataclass(frozen=True)
class RecordThread:
    """What a reply to a record needs to thread in the customer's mail client."""

    #: Message-ID of the last mail received on the record (the reply's parent).
    last_inbound_message_id: str | None
    #: Every Message-ID known on the record (in and out), oldest first, once each.
    message_ids: tuple[str, ...]


class ThreadLookup(StoreBase):
    """``ThreadLookup.open(database_url)``; reads only."""

    def thread_of(self, record_id: int) -> RecordThread | None:
        """The record's thread, or ``None`` when the record has no message (or is gone)."""
        query = (
            select(
                record_messages.c.direction,
                record_messages.c.kind,
                record_messages.c.internet_message_id,
            )
            .where(record_messages.c.record_id == record_id)
            .order_by(record_messages.c.id)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return None
        ids: list[str] = []
        last_inbound: str | None = None
        for direction, kind, mid in rows:
            normalised = norm_mid(mid)
            if normalised is None:
                continue
            if normalised not in ids:
                ids.append(normalised)
            if direction == "in" and kind in _ANSWERABLE:
                last_inbound = normalised
        return RecordThread(last_inbound, tuple(ids))

    def mailbox_of(self, record_id: int) -> str | None:
        """The mailbox a record belongs to, or ``None`` when there is no such record."""
        with self._read() as conn:
            found = conn.execute(
                select(records.c.mailbox).where(records.c.id == record_id)
            ).scalar_one_or_none()
        return str(found) if found is not None else None
