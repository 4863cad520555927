"""Replaying quarantined mail: move it back from the quarantine folder into the mailbox's folder.

Order matters (docs/records.md): the entry is marked replayed (which forgets the email's
``quarantined`` outcome) *before* the mail is moved, or the fetcher could find the mail while
the old outcome still stands and send it straight back to quarantine. Immutable ids survive the
move, so the mail comes back under the id the store knows. Replaying twice is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from libs.common.errors import PermanentError
from libs.common.mail.models import MailMessage, MessageView
from libs.common.settings import MailboxConfig, MailpipeConfig
from services.ticketer.store.errors import RecordNotFound
from services.ticketer.store.models import QuarantineRow
from services.ticketer.store.store import RecordStore


class MailFolders(Protocol):
    """What replay needs of a mailbox (:class:`libs.common.mail.Mailbox`)."""

    def list_messages(
        self, folder: str = ..., *, view: MessageView = ..., top: int = ...
    ) -> list[MailMessage]: ...

    def move(self, message_id: str, folder: str) -> str: ...


class NotInQuarantine(PermanentError):
    code = "not_in_quarantine"


def provider_mail(config: MailpipeConfig, box: MailboxConfig) -> MailFolders:
    from libs.common.mail import open_mailbox  # a provider's client only when it runs

    return open_mailbox(config, box)


def replay(
    store: RecordStore,
    entry_id: int,
    config: MailpipeConfig,
    mail_for: Callable[[MailpipeConfig, MailboxConfig], MailFolders] = provider_mail,
) -> str:
    """Move quarantine entry ``entry_id``'s mail back; a line saying what was done."""
    entry = store.get_quarantine(entry_id)
    if entry is None:
        raise RecordNotFound(
            f"quarantine entry {entry_id} does not exist",
            hint="list the entries with `mailpipe quarantine list --all`",
        )
    box = config.mailbox(entry.mailbox)
    mail = mail_for(config, box)
    message_id = find_in_quarantine(mail, box.quarantine_folder, entry)
    store.mark_replayed(entry_id)
    mail.move(message_id, box.folder)
    return f"replayed entry {entry_id}: moved back to {box.folder} of {box.address}"


def find_in_quarantine(mail: MailFolders, folder: str, entry: QuarantineRow) -> str:
    """The id of the entry's mail in ``folder``: by the stored id, else by Message-ID."""
    wanted_mid = (entry.internet_message_id or "").strip().lower()
    for message in mail.list_messages(folder, view="summary", top=100):
        if message.id == entry.message_id:
            return message.id
        mid = (message.internet_message_id or "").strip().lower()
        if wanted_mid and mid == wanted_mid:
            return message.id
    raise NotInQuarantine(
        f"the mail of entry {entry.id} is not in folder {folder!r} of {entry.mailbox}",
        hint="it was moved by hand or already replayed; look for it in the mailbox",
    )
