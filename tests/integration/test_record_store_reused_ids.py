"""A second mail with a Message-ID already stored: a copy of the same mail is a duplicate, but
another mail that reuses the id is kept (stored without it, flagged), never dropped. Both
backends."""

from __future__ import annotations

from dataclasses import replace

from services.ticketer.store import Party, RecordStore
from services.ticketer.store._writes import REUSED_MESSAGE_ID
from tests.db_fixtures import inbound

MID = "<m1@customer.example>"


def test_a_copy_of_the_same_mail_is_a_duplicate(store: RecordStore) -> None:
    first = store.create_record_with_message(inbound(1))
    copy = store.create_record_with_message(
        inbound(
            2,
            internet_message_id=MID,
            subject="Printer 1 is broken",
            from_=Party("user1@customer.example", "User 1"),
            body_text="Hello, printer 1 jams. Grüße",
        )
    )
    assert (copy.processed.outcome, copy.processed.reason) == ("ignored", "duplicate")
    assert copy.processed.record_id == first.record_id


def test_another_mail_reusing_a_message_id_becomes_its_own_record(store: RecordStore) -> None:
    first = store.create_record_with_message(inbound(1))
    other = inbound(
        2,
        internet_message_id=MID,
        from_=Party("someone@elsewhere.example", "Someone"),
        body_text="A different mail entirely",
    )
    second = store.create_record_with_message(other)
    assert second.created and second.record_id != first.record_id
    assert (second.processed.outcome, second.processed.reason) == ("created", REUSED_MESSAGE_ID)
    assert second.record_id is not None
    detail = store.get_record(second.record_id)
    assert detail is not None
    [message] = detail.messages
    assert message.body_text == "A different mail entirely"
    assert message.internet_message_id is None
    # The id still finds the first mail, and the redelivery gives the same answer.
    found = store.find_message_by_internet_id(other.mailbox, MID)
    assert found is not None and found.record_id == first.record_id
    again = store.create_record_with_message(other)
    assert not again.fresh and again.processed == second.processed


def test_a_reply_reusing_a_message_id_is_appended_flagged(store: RecordStore) -> None:
    first = store.create_record_with_message(inbound(1))
    assert first.record_id is not None
    reply = inbound(2, internet_message_id=MID, kind="reply", body_text="Same id, new words")
    appended = store.append_message(first.record_id, reply)
    assert (appended.processed.outcome, appended.processed.reason) == (
        "appended",
        REUSED_MESSAGE_ID,
    )
    detail = store.get_record(first.record_id)
    assert detail is not None
    assert [m.body_text for m in detail.messages] == [
        "Hello, printer 1 jams. Grüße",
        "Same id, new words",
    ]


def test_copies_are_told_by_their_fingerprint_however_they_were_processed(
    store: RecordStore,
) -> None:
    """A copy threads as a reply (its quotes stripped) while the first was a request: what
    they said as received is the same, so the copy is a duplicate all the same."""
    first = store.create_record_with_message(inbound(1, content_sha256="a" * 64))
    assert first.record_id is not None
    copy = inbound(2, internet_message_id=MID, kind="reply", content_sha256="a" * 64)
    copy = replace(copy, body_text="Hello")  # processed differently
    again = store.append_message(first.record_id, copy)
    assert (again.processed.outcome, again.processed.reason) == ("ignored", "duplicate")
    other = inbound(3, internet_message_id=MID, content_sha256="b" * 64)
    reused = store.create_record_with_message(other)
    assert (reused.processed.outcome, reused.processed.reason) == ("created", REUSED_MESSAGE_ID)


def test_a_mail_reusing_a_message_id_that_arrives_twice_is_stored_once(
    store: RecordStore,
) -> None:
    store.create_record_with_message(inbound(1, content_sha256="a" * 64))
    other = inbound(2, internet_message_id=MID, content_sha256="b" * 64)
    first = store.create_record_with_message(other)
    assert first.processed.reason == REUSED_MESSAGE_ID
    copy = replace(other, message_id="AAMk-2-copy")
    again = store.create_record_with_message(copy)
    assert (again.processed.outcome, again.processed.reason) == ("ignored", "duplicate")
    assert again.processed.record_id == first.record_id
