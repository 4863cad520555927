"""Replaying quarantined mail: move it back from the quarantine folder into the mailbox's folder.

Order matters (docs/records.md): the entry is marked replayed (which forgets the email's
``quarantined`` outcome) *before* the mail is moved, or the fetcher could find the mail while
the old outcome still stands and send it straight back to quarantine. Immutable ids survive the
move, so the mail comes back under the id the store knows. Replaying twice is harmless; an
entry dropped (:mod:`libs.common.quarantine_drop`) is never replayed.
``mailpipe quarantine replay`` (through the ticketer's store) and the console both replay here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from libs.common.db.quarantine import QuarantineRow, refuse_dropped
from libs.common.errors import PermanentError
from libs.common.mail.models import MailMessage, MessageView
from libs.common.settings import MailboxConfig, MailpipeConfig

if TYPE_CHECKING:
    from libs.common.mail import Mailbox


class MailList(Protocol):
    """What finding an entry's mail needs of a mailbox (:class:`libs.common.mail.Mailbox`)."""

    def list_messages(
        self, folder: str = ..., *, view: MessageView = ..., top: int = ...
    ) -> list[MailMessage]: ...


class MailFolders(MailList, Protocol):
    """What replay needs of a mailbox."""

    def move(self, message_id: str, folder: str) -> str: ...


MailFor = Callable[[MailpipeConfig, MailboxConfig], MailFolders]


class NotInQuarantine(PermanentError):
    code = "not_in_quarantine"


def provider_mail(config: MailpipeConfig, box: MailboxConfig) -> Mailbox:
    from libs.common.mail import open_mailbox  # a provider's client only when it runs

    return open_mailbox(config, box)


def move_back(
    entry: QuarantineRow,
    mark_replayed: Callable[[int], object],
    config: MailpipeConfig,
    mail_for: MailFor = provider_mail,
) -> str:
    """Mark ``entry`` replayed, then move its mail back; a line saying what was done."""
    refuse_dropped(entry)
    box = config.mailbox(entry.mailbox)
    mail = mail_for(config, box)
    message_id = find_in_quarantine(mail, box.quarantine_folder, entry)
    mark_replayed(entry.id)
    mail.move(message_id, box.folder)
    return f"replayed entry {entry.id}: moved back to {box.folder} of {box.address}"


def find_in_quarantine(mail: MailList, folder: str, entry: QuarantineRow) -> str:
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
