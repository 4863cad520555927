"""The demo's views: threads in the order things happened, folders by the names Outlook
shows, and a log that is still there after the demo."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console

from mailpipe import demo_setup
from mailpipe.demo_view import folder_name, mailbox_table, thread_order
from services.ticketer.store.models import StoredMessage

T0 = datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)


def message(id_: int, at: datetime, mid: str, in_reply_to: str | None = None) -> StoredMessage:
    return StoredMessage(
        id=id_,
        direction="in",
        kind="request",
        message_id=None,
        internet_message_id=mid,
        in_reply_to=in_reply_to,
        conversation_id=None,
        from_=None,
        to=(),
        cc=(),
        subject="s",
        body_text=None,
        body_html=None,
        truncated=False,
        received_at=at,
    )


def test_a_reply_dated_in_whole_seconds_follows_the_acknowledgement_it_answers() -> None:
    request = message(1, T0, "<r@x>")
    ack = replace(message(2, T0 + timedelta(milliseconds=700), "<a@x>", "<r@x>"), direction="out")
    reply = message(3, T0, "<c@x>", "<a@x>")  # its Date header has no fraction of a second
    assert [m.id for m in thread_order([reply, ack, request])] == [1, 2, 3]


def test_an_answer_never_comes_before_what_it_answers_even_with_a_skewed_clock() -> None:
    request = message(1, T0, "<r@x>")
    ack = message(2, T0 + timedelta(seconds=5), "<a@x>", "<r@x>")
    reply = message(3, T0 + timedelta(seconds=2), "<c@x>", "<a@x>")
    second = message(4, T0 + timedelta(seconds=1), "<d@x>", "<c@x>")
    assert [m.id for m in thread_order([second, reply, ack, request])] == [1, 2, 3, 4]


def test_unrelated_messages_keep_time_order_then_storage_order() -> None:
    late, early = message(1, T0 + timedelta(seconds=3), "<1@x>"), message(2, T0, "<2@x>")
    same = message(3, T0 + timedelta(microseconds=5), "<3@x>")
    assert [m.id for m in thread_order([late, early, same])] == [2, 3, 1]


def test_the_mailbox_table_uses_outlook_folder_names() -> None:
    assert folder_name("sentitems") == "Sent Items" and folder_name("Custom") == "Custom"
    console = Console(width=120, record=True)
    console.print(mailbox_table("support@contoso.com", {"inbox": 0, "sentitems": 4}, 4))
    text = console.export_text()
    assert "Sent Items" in text and "sentitems" not in text


def test_without_a_state_directory_the_log_outlives_the_demo(tmp_path: Path) -> None:
    path = demo_setup.pipeline_log_path(demo_setup.DemoOptions(state_dir=None))
    try:
        assert path.exists() and path.name.startswith("mailpipe-demo-")
    finally:
        path.unlink()
    kept = demo_setup.pipeline_log_path(demo_setup.DemoOptions(state_dir=tmp_path))
    assert kept == tmp_path.resolve() / "mailpipe.log"
