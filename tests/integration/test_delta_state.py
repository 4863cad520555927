"""The fetcher's delta links on the shared database. Both backends."""

from __future__ import annotations

from services.fetcher.state import DeltaState

MAILBOX = "help@example.com"


def test_delta_links_per_mailbox_and_folder(delta_state: DeltaState) -> None:
    assert delta_state.get_delta_link(MAILBOX, "inbox") is None
    delta_state.set_delta_link(MAILBOX, "inbox", "https://graph/delta?token=1")
    delta_state.set_delta_link(MAILBOX, "inbox", "https://graph/delta?token=2")
    delta_state.set_delta_link("other@example.com", "inbox", "https://graph/delta?token=9")
    assert delta_state.get_delta_link(MAILBOX, "inbox") == "https://graph/delta?token=2"
    assert delta_state.get_delta_link(MAILBOX, "archive") is None
    delta_state.clear_delta_link(MAILBOX, "inbox")
    assert delta_state.get_delta_link(MAILBOX, "inbox") is None
    assert delta_state.get_delta_link("other@example.com", "inbox") == "https://graph/delta?token=9"


def test_delta_links_outlive_the_process_and_ignore_address_case(database_url: str) -> None:
    first = DeltaState.open(database_url)
    first.set_delta_link("Help@Example.com", "inbox", "https://graph/delta?token=3")
    first.close()
    again = DeltaState.open(database_url)
    try:
        assert again.get_delta_link(MAILBOX, "inbox") == "https://graph/delta?token=3"
    finally:
        again.close()
