"""The fetcher's delta links on the shared database. Both backends."""

from __future__ import annotations

from services.fetcher.state import MailCursors

MAILBOX = "help@example.com"


def test_cursors_per_mailbox_and_folder(cursors: MailCursors) -> None:
    assert cursors.get_cursor(MAILBOX, "inbox") is None
    cursors.set_cursor(MAILBOX, "inbox", "https://graph/delta?token=1", provider="microsoft")
    cursors.set_cursor(MAILBOX, "inbox", "https://graph/delta?token=2", provider="microsoft")
    cursors.set_cursor(
        "other@example.com", "inbox", "https://graph/delta?token=9", provider="microsoft"
    )
    assert cursors.get_cursor(MAILBOX, "inbox") == "https://graph/delta?token=2"
    assert cursors.get_cursor(MAILBOX, "archive") is None
    cursors.clear_cursor(MAILBOX, "inbox")
    assert cursors.get_cursor(MAILBOX, "inbox") is None
    assert cursors.get_cursor("other@example.com", "inbox") == "https://graph/delta?token=9"


def test_cursors_outlive_the_process_and_ignore_address_case(database_url: str) -> None:
    first = MailCursors.open(database_url)
    first.set_cursor(
        "Help@Example.com", "inbox", "https://graph/delta?token=3", provider="microsoft"
    )
    first.close()
    again = MailCursors.open(database_url)
    try:
        assert again.get_cursor(MAILBOX, "inbox") == "https://graph/delta?token=3"
    finally:
        again.close()
