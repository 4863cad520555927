"""The drop shared by ``mailpipe quarantine drop`` and the console (libs/common/quarantine_drop):
the mail is deleted before the entry is marked, a mailbox that cannot be reached marks nothing,
an entry replayed or dropped is refused, and a dropped entry is never replayed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from libs.common.db.quarantine import EntryDropped, EntryReplayed, QuarantineRow
from libs.common.mail.errors import MailUnavailable
from libs.common.quarantine_drop import MailBin, drop
from libs.common.quarantine_replay import move_back
from libs.common.settings import MailboxConfig, MailpipeConfig
from tests.mail_fake import FakeMailbox

BOX = "support@contoso.com"
FOLDER = "mailpipe-quarantine"
WHEN = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
CONFIG = MailpipeConfig(
    mailboxes=(MailboxConfig(address=BOX, tenant_id="t", client_id="c", client_secret="s"),)
)
RAW = b"From: a@customer.example\r\nSubject: junk\r\nMessage-ID: <j@x>\r\n\r\nbuy\r\n"


def entry(message_id: str, **changes: object) -> QuarantineRow:
    row = QuarantineRow(
        id=7,
        mailbox=BOX,
        provider="microsoft",
        message_id=message_id,
        folder="inbox",
        internet_message_id=None,
        subject="junk",
        reason="bad_mime",
        detail="",
        attempts=1,
        created_at=WHEN,
        replayed_at=None,
        dropped_at=None,
        dropped_by=None,
        drop_note=None,
    )
    return replace(row, **changes)  # type: ignore[arg-type]


class Marks:
    """Records the marks asked for; checks the mail was already deleted when asked."""

    def __init__(self, mail: FakeMailbox) -> None:
        self.mail = mail
        self.calls: list[tuple[int, str, str]] = []

    def __call__(self, entry_id: int, by: str, note: str) -> QuarantineRow:
        assert not self.mail.folders[FOLDER], "marked while the mail was still in the folder"
        self.calls.append((entry_id, by, note))
        return entry("x", dropped_at=WHEN, dropped_by=by, drop_note=note or None)


def test_the_mail_is_deleted_first_and_the_note_trimmed() -> None:
    mail = FakeMailbox(address=BOX)
    message_id = mail.seed(RAW, FOLDER)
    marks = Marks(mail)
    done = drop(
        entry(message_id), marks, CONFIG, "alice", "  spam " + "x" * 3000, lambda c, b: mail
    )
    assert not done.already_gone and "deleted from" in done.line
    ((entry_id, by, note),) = marks.calls
    assert (entry_id, by) == (7, "alice") and note.startswith("spam x") and len(note) == 2000


def test_a_mailbox_that_cannot_be_reached_marks_nothing() -> None:
    marks = Marks(FakeMailbox(address=BOX))

    def unreachable(config: MailpipeConfig, box: MailboxConfig) -> MailBin:
        raise MailUnavailable("graph is down")

    with pytest.raises(MailUnavailable):
        drop(entry("msg-1"), marks, CONFIG, "alice", "", unreachable)
    assert marks.calls == []


def test_an_entry_decided_already_is_refused() -> None:
    mail = FakeMailbox(address=BOX)
    message_id = mail.seed(RAW, FOLDER)
    marks = Marks(mail)
    with pytest.raises(EntryReplayed, match="was replayed"):
        drop(entry(message_id, replayed_at=WHEN), marks, CONFIG, "alice", "", lambda c, b: mail)
    dropped = entry(message_id, dropped_at=WHEN, dropped_by="bob")
    with pytest.raises(EntryDropped, match="dropped by bob on 2026-12-03 17:00 UTC"):
        drop(dropped, marks, CONFIG, "alice", "", lambda c, b: mail)
    with pytest.raises(EntryDropped, match="cannot be replayed") as refused:
        move_back(dropped, lambda entry_id: None, CONFIG, lambda c, b: mail)
    assert refused.value.hint and "Recoverable Items" in refused.value.hint
    assert marks.calls == [] and list(mail.folders[FOLDER]) == [message_id]
