"""Text a database refuses (NUL on PostgreSQL, lone surrogates everywhere) is stored as U+FFFD,
on both backends, in every kind of column: a mail can always become a record."""

from __future__ import annotations

from services.ticketer.store import Party, RecordStore
from tests.db_fixtures import inbound

ODD = "a\x00b\ud800c"
STORED = "a\ufffdb\ufffdc"


def test_nul_and_lone_surrogates_are_stored_as_replacement_characters(store: RecordStore) -> None:
    msg = inbound(
        1,
        subject=f"subject {ODD}",
        body_text=f"body {ODD}",
        body_html=f"<p>{ODD}</p>",
        from_=Party("user1@customer.example", f"User {ODD}"),
        references=(f"<ref{ODD}@x.example>",),
    )
    result = store.create_record_with_message(msg)
    assert result.created and result.record_id is not None
    record = store.get_record(result.record_id)
    assert record is not None
    assert record.record.subject == f"subject {STORED}"
    [message] = record.messages
    assert message.body_text == f"body {STORED}"
    assert message.body_html == f"<p>{STORED}</p>"
    assert message.from_ is not None and message.from_.name == f"User {STORED}"
    # Every character the mail had is still there: only the unstorable ones are replaced.
    assert "\x00" not in repr(record)


def test_a_quarantine_entry_with_a_nul_in_its_subject_is_stored(store: RecordStore) -> None:
    result = store.quarantine_email(
        "help@example.com",
        "AAMk-9",
        "store_error",
        detail=f"detail {ODD}",
        subject=ODD,
        provider="microsoft",
    )
    assert result.fresh and result.processed.outcome == "quarantined"
    [entry] = store.list_quarantine()
    assert entry.subject == STORED and entry.detail == f"detail {STORED}"


def test_values_wider_than_their_column_are_cut_not_refused(store: RecordStore) -> None:
    """A 400-character bounce recipient (varchar 320) and a 300-character attachment type
    (varchar 255) used to fail on PostgreSQL every time: the mail could never be stored."""
    from services.ticketer.store import Attachment, DeliveryFailure

    long_type = "application/x-" + "t" * 300
    recipient = "r" * 400 + "@example.com"
    msg = inbound(
        1,
        kind="delivery_failure",
        attachments=(Attachment("a.bin", "ab" * 32, 3, long_type),),
        delivery_failures=(DeliveryFailure(recipient, "5.1.1" + "9" * 40, "gone"),),
    )
    result = store.create_record_with_message(msg)
    assert result.created and result.record_id is not None
    detail = store.get_record(result.record_id)
    assert detail is not None
    [message] = detail.messages
    assert message.attachments[0].content_type == long_type[:255]
    assert message.delivery_failures[0].recipient == recipient[:320]
