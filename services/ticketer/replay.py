"""``mailpipe quarantine replay`` and ``drop``: the entry from the record store, the move in
:mod:`libs.common.quarantine_replay` and the delete in :mod:`libs.common.quarantine_drop`
(which the console shares)."""

from __future__ import annotations

from libs.common.db.quarantine import QuarantineRow
from libs.common.quarantine_drop import BinFor, Dropped
from libs.common.quarantine_drop import drop as drop_entry
from libs.common.quarantine_replay import (
    MailFolders,
    MailFor,
    NotInQuarantine,
    find_in_quarantine,
    move_back,
    provider_mail,
)
from libs.common.settings import MailpipeConfig
from services.ticketer.store.errors import RecordNotFound
from services.ticketer.store.store import RecordStore

__all__ = [
    "MailFolders",
    "NotInQuarantine",
    "drop",
    "find_in_quarantine",
    "provider_mail",
    "replay",
]


def replay(
    store: RecordStore,
    entry_id: int,
    config: MailpipeConfig,
    mail_for: MailFor = provider_mail,
) -> str:
    """Move quarantine entry ``entry_id``'s mail back; a line saying what was done."""
    return move_back(_entry(store, entry_id), store.mark_replayed, config, mail_for)


def drop(
    store: RecordStore,
    entry_id: int,
    config: MailpipeConfig,
    by: str,
    note: str = "",
    mail_for: BinFor = provider_mail,
) -> Dropped:
    """Delete quarantine entry ``entry_id``'s mail and mark the entry dropped by ``by``."""
    return drop_entry(_entry(store, entry_id), store.mark_dropped, config, by, note, mail_for)


def _entry(store: RecordStore, entry_id: int) -> QuarantineRow:
    entry = store.get_quarantine(entry_id)
    if entry is None:
        raise RecordNotFound(
            f"quarantine entry {entry_id} does not exist",
            hint="list the entries with `mailpipe quarantine list --all`",
        )
    return entry
