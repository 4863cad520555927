"""``mailpipe quarantine replay``: the entry from the record store, the move in
:mod:`libs.common.quarantine_replay` (which the console shares)."""

from __future__ import annotations

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

__all__ = ["MailFolders", "NotInQuarantine", "find_in_quarantine", "provider_mail", "replay"]


def replay(
    store: RecordStore,
    entry_id: int,
    config: MailpipeConfig,
    mail_for: MailFor = provider_mail,
) -> str:
    """Move quarantine entry ``entry_id``'s mail back; a line saying what was done."""
    entry = store.get_quarantine(entry_id)
    if entry is None:
        raise RecordNotFound(
            f"quarantine entry {entry_id} does not exist",
            hint="list the entries with `mailpipe quarantine list --all`",
        )
    return move_back(entry, store.mark_replayed, config, mail_for)
