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
#: A Message-ID no stored mail answers (names in its In-Reply-To): the answered-by lookup.
ANSWERED = "answered"


@dataclass(frozen=True)
class Expected:
    """What one email of a batch may look up: its own Message-ID and its thread's
    (In-Reply-To, References), and its Graph conversation."""

    mailbox: str
    message_ids: tuple[str, ...] = ()
    conversation_id: str | None = None
    #: Its own Message-ID: whether a stored mail answers it (a reply handled before it).
    own_message_id: str | None = None


class Prefetch(StoreBase):
    def expect(self, emails: Sequence[Expected]) -> None:
        """Inside a unit: read at once which of these Message-IDs and conversations the
        mailboxes hold; lookups of the absent ones are answered from memory for the rest of
        the unit. Outside a unit: nothing (every lookup asks the database)."""
        absent = self._absent()
        if absent is None:
            return
        wanted = _wanted(emails)
        with self._read() as conn:
            for (kind, box), values in wanted.items():
                query, name = _QUERIES[kind]
                params = {"b_mailbox": box, name: sorted(values)}
                found = {str(r[0]) for r in conn.execute(query, params)}
                absent.add(kind, box, [v for v in values if held(v) not in found])


#: Per kind of key: the query of those the mailbox holds, and its parameter's name.
_QUERIES = {
    MID: (_sql.RECORDS_BY_MIDS, "b_mids"),
    CONVERSATION: (_sql.CONVERSATIONS_HELD, "b_conversations"),
    ANSWERED: (_sql.ANSWERED_HELD, "b_mids"),
}


def _wanted(emails: Sequence[Expected]) -> dict[tuple[str, str], set[str]]:
    """The keys to read, per (kind, mailbox)."""
    wanted: dict[tuple[str, str], set[str]] = {}
    for email in emails:
        box = rows.norm_address(email.mailbox)
        mids = {rows.norm_mid(v) for v in email.message_ids}
        wanted.setdefault((MID, box), set()).update(m for m in mids if m is not None)
        if email.conversation_id:
            wanted.setdefault((CONVERSATION, box), set()).add(email.conversation_id)
        own = rows.norm_mid(email.own_message_id)
        if own is not None:
            wanted.setdefault((ANSWERED, box), set()).add(own)
    return {key: values for key, values in wanted.items() if values}
