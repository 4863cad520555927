"""What the console's ``/quarantine`` pages need: the entries (the shared database), the mail
itself (the mailbox's quarantine folder, through the mail port), replay and drop, the same
:func:`~libs.common.quarantine_replay.move_back` and :func:`~libs.common.quarantine_drop.drop`
as ``mailpipe quarantine replay`` and ``drop``.

The mail is read as MIME and shown as headers, its text part, its HTML part sanitised
(:func:`~libs.common.text.safe_html.sanitize_html`) and the names of its attachments. The
configuration (which mailboxes, their folders and credentials) is read when first needed, from
the source ``MAILPIPE_CONFIG_SOURCE`` names, as the CLI reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from libs.common.db import StoreBase
from libs.common.db.quarantine import QuarantineBook, QuarantineRow
from libs.common.mail import Mailbox
from libs.common.quarantine_drop import Dropped, drop
from libs.common.quarantine_replay import find_in_quarantine, move_back
from libs.common.settings import MailboxConfig, MailpipeConfig
from libs.common.text.headers import header_text
from libs.common.text.html import html_to_text
from libs.common.text.mimetree import Part, body_of, content, find_body, leaves, parse_tree, text_of
from libs.common.text.safe_html import sanitize_html

#: Headers shown above the mail, in this order, when present.
SHOWN_HEADERS = ("From", "To", "Cc", "Reply-To", "Date", "Subject", "Message-ID")


@dataclass(frozen=True)
class AttachmentLine:
    name: str
    content_type: str
    size: int


@dataclass(frozen=True)
class MailView:
    """A quarantined mail as the page shows it; ``html`` is already sanitised."""

    headers: tuple[tuple[str, str], ...]
    text: str
    html: str
    attachments: tuple[AttachmentLine, ...]


def mail_view(mime: bytes) -> MailView:
    """The mail read as the providers and the ticketer read it (``libs.common.text``): any
    bytes at all — quarantined mail is the oddest there is — give a view, never an error."""
    message = parse_tree(mime)
    _, text_part, hint = body_of(message)
    html_part = find_body(message, ("html",))
    headers = tuple(
        (name, header_text(value, hint))
        for name in SHOWN_HEADERS
        if (value := message.get(name)) is not None
    )
    html = text_of(html_part, hint) if html_part is not None else ""
    text = text_of(text_part, hint) if text_part is not None else ""
    attachments = tuple(
        AttachmentLine(_name(part, hint), part.get_content_type(), len(content(part)))
        for part in leaves(message)
        if part is not html_part and part is not text_part
    )
    text = text or (html_to_text(html) if html else "")
    return MailView(headers, text, sanitize_html(html, {}) if html else "", attachments)


def _name(part: Part, hint: str | None) -> str:
    try:
        name = part.get_filename()
    except (LookupError, ValueError):  # a filename parameter the email package cannot read
        name = None
    return (header_text(name, hint) if name else "") or "(no name)"


MailOpener = Callable[[MailpipeConfig, MailboxConfig], Mailbox]


def _open_mailbox(config: MailpipeConfig, box: MailboxConfig) -> Mailbox:
    from libs.common.mail import open_mailbox  # a provider's client only when it runs

    return open_mailbox(config, box)


class QuarantineDesk:
    """The quarantine's entries and their mail; ``config`` is called when a mail is needed."""

    def __init__(
        self,
        book: QuarantineBook,
        config: Callable[[], MailpipeConfig],
        open_mail: MailOpener = _open_mailbox,
    ) -> None:
        self.book = book
        self._config = config
        self._open_mail = open_mail

    def mail(self, entry: QuarantineRow) -> MailView:
        """The entry's mail as it lies in the quarantine folder."""
        config = self._config()
        box = config.mailbox(entry.mailbox)
        mailbox = self._open_mail(config, box)
        try:
            message_id = find_in_quarantine(mailbox, box.quarantine_folder, entry)
            return mail_view(mailbox.get_mime(message_id))
        finally:
            mailbox.close()

    def replay(self, entry: QuarantineRow) -> str:
        """Mark the entry replayed and move its mail back (as the CLI does); what was done."""
        config = self._config()
        mailbox = self._open_mail(config, config.mailbox(entry.mailbox))
        try:
            return move_back(entry, self.book.mark_replayed, config, lambda c, b: mailbox)
        finally:
            mailbox.close()

    def drop(self, entry: QuarantineRow, by: str, note: str) -> Dropped:
        """Delete the entry's mail and mark the entry dropped by ``by`` (as the CLI does)."""
        config = self._config()
        mailbox = self._open_mail(config, config.mailbox(entry.mailbox))
        try:
            return drop(entry, self.book.mark_dropped, config, by, note, lambda c, b: mailbox)
        finally:
            mailbox.close()


def service_config() -> MailpipeConfig:
    """The configuration as ``mailpipe quarantine replay`` reads it, read anew at each use
    (an integration changed in the console counts at once)."""
    from libs.common.config_source import service_config as read
    from libs.common.settings import Settings

    return read(Settings(), wait=False)


def open_desk(store: StoreBase) -> QuarantineDesk:
    """The desk on the console's own database engine (the pipeline's shared database)."""
    return QuarantineDesk(QuarantineBook(store.engine), service_config)
