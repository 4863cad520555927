"""A batch's lookups read at once: which of its emails' Message-IDs, conversations and thread
roots the mailboxes already hold. Inside a unit of work the absent ones are remembered
(:class:`libs.common.db.Absent`), so that the per-email lookups of new mail, the common case,
cost no round trip: one query per mailbox for the batch (its three kinds of key in one
statement) instead of several per email.
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
#: A thread root no record of the mailbox keeps: the thread-root lookup.
ROOT = "root"


@dataclass(frozen=True)
class Expected:
    """What one email of a batch may look up: its own Message-ID and its thread's
    (In-Reply-To, References), and its Graph conversation."""

    mailbox: str
    message_ids: tuple[str, ...] = ()
    conversation_id: str | None = None
    #: Its own Message-ID: whether a stored mail answers it (a reply handled before it).
    own_message_id: str | None = None
    #: The root of the thread it answers: whether a record keeps it.
    thread_root: str | None = None


class Prefetch(StoreBase):
    def expect(self, emails: Sequence[Expected]) -> None:
        """Inside a unit: read at once which of these Message-IDs and conversations the
        mailboxes hold; lookups of the absent ones are answered from memory for the rest of
        the unit. Outside a unit: nothing (every lookup asks the database)."""
        absent = self._absent()
        if absent is None:
            return
        with self._read() as conn:
            for box, kinds in _wanted(emails).items():
                params: dict[str, object] = {"b_mailbox": box}
                params.update({name: sorted(kinds.get(kind, ())) for kind, name in _LISTS.items()})
                found = {(str(r[0]), str(r[1])) for r in conn.execute(_sql.HELD, params)}
                for kind, values in kinds.items():
                    absent.add(kind, box, [v for v in values if (kind, held(v)) not in found])


#: Per kind of key (the kinds ``_sql.HELD`` names its rows by): its list parameter.
_LISTS = {
    MID: "b_thread_mids",
    CONVERSATION: "b_conversations",
    ANSWERED: "b_own_mids",
    ROOT: "b_roots",
}


def _wanted(emails: Sequence[Expected]) -> dict[str, dict[str, set[str]]]:
    """The keys to read, per mailbox and kind."""
    wanted: dict[str, dict[str, set[str]]] = {}
    for email in emails:
        kinds = wanted.setdefault(rows.norm_address(email.mailbox), {})
        mids = {rows.norm_mid(v) for v in email.message_ids}
        kinds.setdefault(MID, set()).update(m for m in mids if m is not None)
        if email.conversation_id:
            kinds.setdefault(CONVERSATION, set()).add(email.conversation_id)
        for kind, value in ((ANSWERED, email.own_message_id), (ROOT, email.thread_root)):
            mid = rows.norm_mid(value)
            if mid is not None:
                kinds.setdefault(kind, set()).add(mid)
    wanted = {box: {k: v for k, v in kinds.items() if v} for box, kinds in wanted.items()}
    return {box: kinds for box, kinds in wanted.items() if kinds}
