"""Dropping quarantined mail: it was looked at and is not wanted (spam, a duplicate, a test).

The mail leaves the quarantine folder as processed mail leaves the inbox when the mailbox
deletes it (``after_processing = "delete"``): a soft delete through the mail port, into
Recoverable Items, where the user or an admin can still restore it. Then the entry is marked
dropped, with who, when and an optional note: it leaves the quarantine list and stays in the
database as history; it can no longer be replayed. The mail goes first, so an entry is never
marked dropped while its mail still sits in the folder; a mail already gone (deleted by hand)
is no error: the entry is dropped all the same, and the result says so.
``mailpipe quarantine drop`` (through the ticketer's store) and the console both drop here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from libs.common.db.quarantine import QuarantineRow, refuse_decided
from libs.common.quarantine_replay import (
    MailList,
    NotInQuarantine,
    find_in_quarantine,
    provider_mail,
)
from libs.common.settings import MailboxConfig, MailpipeConfig

#: How many characters of a note are kept.
NOTE_LIMIT = 2000


class MailBin(MailList, Protocol):
    """What drop needs of a mailbox (:class:`libs.common.mail.Mailbox`)."""

    def delete(self, message_id: str) -> bool: ...


BinFor = Callable[[MailpipeConfig, MailboxConfig], MailBin]
MarkDropped = Callable[[int, str, str], QuarantineRow]


@dataclass(frozen=True)
class Dropped:
    """An entry dropped; ``already_gone`` when its mail was no longer in the folder."""

    entry: QuarantineRow
    already_gone: bool

    @property
    def line(self) -> str:
        where = f"the quarantine folder of {self.entry.mailbox}"
        if self.already_gone:
            return f"dropped entry {self.entry.id}: its mail was already gone from {where}"
        return f"dropped entry {self.entry.id}: its mail was deleted from {where}"


def drop(
    entry: QuarantineRow,
    mark_dropped: MarkDropped,
    config: MailpipeConfig,
    by: str,
    note: str = "",
    mail_for: BinFor = provider_mail,
) -> Dropped:
    """Delete ``entry``'s mail from the quarantine folder, then mark the entry dropped."""
    refuse_decided(entry)
    box = config.mailbox(entry.mailbox)
    mail = mail_for(config, box)
    try:
        message_id = find_in_quarantine(mail, box.quarantine_folder, entry)
    except NotInQuarantine:
        gone = True
    else:
        gone = not mail.delete(message_id)
    marked = mark_dropped(entry.id, by, note.strip()[:NOTE_LIMIT])
    return Dropped(marked, already_gone=gone)
