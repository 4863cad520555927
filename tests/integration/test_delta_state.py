"""The fetcher's delta links on the shared database. Both backends."""

from __future__ import annotations

from services.fetcher.state import DeltaState

MAILBOX = "help@example.com"


def test_cursors_per_mailbox_and_folder(delta_state: DeltaState) -> None:
    assert delta_state.get_cursor(MAILBOX, "inbox") is None
    delta_state.set_cursor(MAILBOX, "inbox", "https://graph/delta?token=1")
    delta_state.set_cursor(MAILBOX, "inbox", "https://graph/delta?token=2")
    delta_state.set_cursor("other@example.com", "inbox", "https://graph/delta?token=9")
    assert delta_state.get_cursor(MAILBOX, "inbox") == "https://graph/delta?token=2"
    assert delta_state.get_cursor(MAILBOX, "archive") is None
    delta_state.clear_cursor(MAILBOX, "inbox")
    assert delta_state.get_cursor(MAILBOX, "inbox") is None
    assert delta_state.get_cursor("other@example.com", "inbox") == "https://graph/delta?token=9"


def test_cursors_outlive_the_process_and_ignore_address_case(database_url: str) -> None:
    first = DeltaState.open(database_url)
    first.set_cursor("Help@Example.com", "inbox", "https://graph/delta?token=3")
    first.close()
    again = DeltaState.open(database_url)
    try:
        assert again.get_cursor(MAILBOX, "inbox") == "https://graph/delta?token=3"
    finally:
        again.close()
