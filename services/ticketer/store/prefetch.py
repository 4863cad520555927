"""A batch's lookups read at once: which of its emails' Message-IDs and conversations the
mailboxes already hold. Inside a unit of work the absent ones are remembered
(:class:`libs.common.db.Absent`), so that the per-email lookups of new mail, the common case,
cost no round trip: one query per mailbox and kind for the batch instead of several per email.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from libs.common.db import StoreBase, held, rows
from services.ticketer.store import _sql

#: Kinds of keys the unit remembers as absent (``Absent`` keys ``(kind, mailbox, value)``).
PROCESSED = "processed"
MID = "mid"
CONVERSATION = "conversation"


@dataclass(frozen=True)
class Expected:
    """What one email of a batch may look up: its own Message-ID and its thread's
    (In-Reply-To, References), and its Graph conversation."""

    mailbox: str
    message_ids: tuple[str, ...] = ()
    conversation_id: str | None = None


class Prefetch(StoreBase):
    def expect(self, emails: Sequence[Expected]) -> None:
        """Inside a unit: read at once which of these Message-IDs and conversations the
        mailboxes hold; lookups of the absent ones are answered from memory for the rest of
        the unit. Outside a unit: nothing (every lookup asks the database)."""
        absent = self._absent()
        if absent is None:
            return
        mids: dict[str, set[str]] = {}
        conversations: dict[str, set[str]] = {}
        for email in emails:
            box = rows.norm_address(email.mailbox)
            wanted = {rows.norm_mid(v) for v in email.message_ids}
            mids.setdefault(box, set()).update(m for m in wanted if m is not None)
            if email.conversation_id:
                conversations.setdefault(box, set()).add(email.conversation_id)
        with self._read() as conn:
            for box, values in mids.items():
                params = {"b_mailbox": box, "b_mids": sorted(values)}
                found = {str(r[0]) for r in conn.execute(_sql.RECORDS_BY_MIDS, params)}
                absent.add(MID, box, [v for v in values if held(v) not in found])
            for box, values in conversations.items():
                params = {"b_mailbox": box, "b_conversations": sorted(values)}
                found = {str(r[0]) for r in conn.execute(_sql.CONVERSATIONS_HELD, params)}
                absent.add(CONVERSATION, box, [v for v in values if held(v) not in found])
