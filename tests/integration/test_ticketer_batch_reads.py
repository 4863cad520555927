"""A batch's lookups read at once (services/ticketer/store/prefetch.py): the ticketer's
statements per batch do not grow with the batch but for its inserts, and what the batch
itself writes is seen by its later emails. Both backends, through the real store."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from threading import Thread
from typing import Any

import pytest
from sqlalchemy import event

from libs.common.broker.policy import Delivery
from libs.common.contracts import (
    Address,
    Body,
    InboundEmail,
    MailHeaders,
    OutboundEmail,
    ProcessedEmail,
    RecordEvent,
)
from libs.common.db.errors import UnitConflict
from libs.common.settings import MailboxConfig, MailpipeConfig
from services.ticketer.handler import Ticketer
from services.ticketer.store import Expected, RecordStore
from tests.blobs_fake import FakeBlobs
from tests.db_fixtures import fresh_database, inbound

BOX = "help@example.com"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DELIVERY = Delivery(message_id="x", correlation_id="c")


class Published:
    def __init__(self) -> None:
        self.processed: list[ProcessedEmail] = []

    def publish(self, messages: Sequence[ProcessedEmail | RecordEvent | OutboundEmail]) -> None:
        self.processed += [m for m in messages if isinstance(m, ProcessedEmail)]


def mail(n: int, **fields: Any) -> InboundEmail:
    data: dict[str, Any] = {
        "mailbox": BOX,
        "message_id": f"g{n}",
        "provider": "microsoft",
        "internet_message_id": f"<m{n}@customer.example>",
        "conversation_id": f"conv-{n}",
        "received_at": T0 + timedelta(seconds=n),
        "fetched_at": T0,
        "from": Address(address=f"user{n}@customer.example", name=f"User {n}"),
        "to": (Address(address=BOX),),
        "subject": f"Printer {n} is broken",
        "body": Body(text=f"Hello, printer {n} jams."),
    }
    data.update(fields)
    return InboundEmail.model_validate(data)


def ticketer(store: RecordStore) -> tuple[Ticketer, Published]:
    config = MailpipeConfig(
        mailboxes=(MailboxConfig(address=BOX, tenant_id="t", client_id="c", client_secret="s"),)
    )
    out = Published()
    return Ticketer(store, FakeBlobs(), out, config), out


@contextmanager
def statements(store: RecordStore) -> Iterator[list[str]]:
    """The SQL statements run on ``store`` inside the block, first word only (no BEGIN)."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        word = statement.split()[0].upper()
        if word not in ("BEGIN", "COMMIT", "ROLLBACK"):
            seen.append(word)

    event.listen(store.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", note)


def test_a_batch_of_new_mail_reads_a_bounded_number_of_times(store: RecordStore) -> None:
    handler, out = ticketer(store)
    reads: list[int] = []
    for first, size in ((0, 4), (100, 16)):
        batch = [(mail(first + i), DELIVERY) for i in range(size)]
        with statements(store) as seen:
            assert handler.handle_batch(batch) == [None] * size
        # Record, message and log row: one statement on PostgreSQL, three on SQLite.
        per_email = 1 if store.dialect == "postgresql" else 3
        writes = [s for s in seen if s != "SELECT"]
        assert len(writes) == per_email * size
        reads.append(seen.count("SELECT"))
    # The outcomes of the whole batch once; its Message-IDs, conversations and answering
    # replies in one statement; on PostgreSQL the thread locks (and their timeout) in one.
    assert reads[0] == reads[1] == (3 if store.dialect == "postgresql" else 2)
    assert [p.outcome for p in out.processed] == ["created"] * 20


def test_later_mail_of_a_batch_sees_what_earlier_mail_of_it_stored(store: RecordStore) -> None:
    handler, out = ticketer(store)
    reply = mail(
        2,
        conversation_id="conv-other",
        headers=MailHeaders(in_reply_to="<m1@customer.example>"),
        subject="Re: Printer 1 is broken",
    )
    same_conversation = mail(3, conversation_id="conv-1", subject="Printer 1, again")
    # A copy of g1 under another Graph id: same Message-ID, sender, subject and body.
    original = mail(1).model_dump(by_alias=True)
    copy = mail(4, **{k: original[k] for k in ("internet_message_id", "from", "subject", "body")})
    twice = mail(1)
    batch = [(m, DELIVERY) for m in (mail(1), reply, same_conversation, copy, twice)]

    assert handler.handle_batch(batch) == [None] * 5

    outcomes = [(p.message_id, p.outcome, p.record_id) for p in out.processed]
    record = outcomes[0][2]
    assert outcomes[:4] == [
        ("g1", "created", record),
        ("g2", "appended", record),
        ("g3", "appended", record),
        ("g4", "ignored", record),
    ]
    # g1 delivered twice in one batch: one record, its stored outcome published again.
    assert outcomes[4] == ("g1", "created", record)
    assert len(store.list_records()) == 1


def test_lookups_of_mail_read_ahead_answer_as_the_database_does(store: RecordStore) -> None:
    stored = store.create_record_with_message(inbound(1)).record_id
    long_conversation = "c" * 1200  # cut to the column's width when stored
    held = store.create_record_with_message(inbound(2, conversation_id=long_conversation)).record_id
    ahead = [
        Expected(BOX, ("<m1@customer.example>", "<new@customer.example>"), "conv-1"),
        Expected(BOX.upper(), ("<m2@customer.example>",), long_conversation),
        Expected(BOX, (), "conv-new"),
    ]
    with store.unit():
        store.expect(ahead)
        assert store.find_record_by_message_ids(BOX, ["<new@customer.example>"]) is None
        assert store.find_record_by_message_ids(BOX, ["m1@customer.example"]) == stored
        assert store.find_record_by_conversation(BOX, "conv-1") == stored
        assert store.find_record_by_conversation(BOX, "conv-new") is None
        assert store.find_record_by_conversation(BOX, long_conversation) == held
        found = store.find_message_by_internet_id(BOX.upper(), "<m2@customer.example>")
        assert found is not None and found.record_id == held
        # Stored in the unit: no longer absent for the rest of it.
        new = inbound(3, internet_message_id="<new@customer.example>", conversation_id="conv-new")
        made = store.create_record_with_message(new).record_id
        assert store.find_record_by_message_ids(BOX, ["<new@customer.example>"]) == made
        assert store.find_record_by_conversation(BOX, "conv-new") == made
    # Outside a unit nothing is remembered: every lookup asks the database.
    store.expect(ahead)
    assert store.find_record_by_conversation(BOX, "conv-new") == made


def test_a_batch_of_replies_writes_once_per_email_on_postgresql(store: RecordStore) -> None:
    handler, out = ticketer(store)
    assert handler.handle_batch([(mail(n), DELIVERY) for n in range(5)]) == [None] * 5
    replies = [
        mail(
            100 + n,
            conversation_id=f"conv-{n}",
            headers=MailHeaders(in_reply_to=f"<m{n}@customer.example>"),
            subject=f"Re: Printer {n} is broken",
        )
        for n in range(5)
    ]
    with statements(store) as seen:
        assert handler.handle_batch([(m, DELIVERY) for m in replies]) == [None] * 5

    # Record counted and reopened, message, log row: one statement on PostgreSQL.
    per_email = 1 if store.dialect == "postgresql" else 3
    assert len([s for s in seen if s not in ("SELECT", "SET")]) == per_email * 5
    created = {p.message_id: p.record_id for p in out.processed[:5]}
    assert [(p.outcome, p.record_id) for p in out.processed[5:]] == [
        ("appended", created[f"g{n}"]) for n in range(5)
    ]
    assert [r.message_count for r in store.list_records()] == [2] * 5


@pytest.fixture
def postgres_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordStore]:
    """PostgreSQL only: on SQLite a second writer waits for the unit's write lock."""
    for url in fresh_database(request, "postgresql", tmp_path):
        opened = RecordStore.open(url)
        try:
            yield opened
        finally:
            opened.close()


def test_an_email_another_writer_stores_after_the_read_ahead_rolls_the_unit_back(
    postgres_store: RecordStore,
) -> None:
    store = postgres_store
    with pytest.raises(UnitConflict), store.unit():
        assert store.processed_outcomes([(BOX, "AAMk-1")]) == {}
        store.expect([Expected(BOX, ("<m1@customer.example>",), "conv-1")])
        # Another ticketer stores the same email and commits (a thread: a transaction of its own).
        other = Thread(target=store.create_record_with_message, args=(inbound(1),))
        other.start()
        other.join()
        store.create_record_with_message(inbound(1))  # believed new: its insert collides
    # Redone outside a unit, it finds the other's outcome: one record, nothing twice.
    assert not store.create_record_with_message(inbound(1)).fresh
    assert len(store.list_records()) == 1


def test_the_answered_by_lookup_read_ahead_answers_as_the_database_does(
    store: RecordStore,
) -> None:
    """A request whose reply is stored already (the reply was handled first) finds the reply's
    record; one no stored mail answers is answered from memory, until the unit stores its
    answer."""
    reply = inbound(1, in_reply_to="<req1@customer.example>")
    answered = store.create_record_with_message(reply).record_id
    ahead = [
        Expected(BOX, ("<req1@customer.example>",), own_message_id="<req1@customer.example>"),
        Expected(BOX, ("<req2@customer.example>",), own_message_id="<req2@customer.example>"),
    ]
    with store.unit():
        store.expect(ahead)
        assert store.find_record_answering(BOX, "<req1@customer.example>") == answered
        with statements(store) as seen:
            assert store.find_record_answering(BOX, "<req2@customer.example>") is None
        assert seen == []  # read ahead: no round trip
        late = inbound(2, in_reply_to="<req2@customer.example>")
        made = store.create_record_with_message(late).record_id
        assert store.find_record_answering(BOX, "<req2@customer.example>") == made


def test_answers_naming_one_unseen_root_join_one_record_per_requester(store: RecordStore) -> None:
    """Each answer in a conversation of its own (as Gmail threads them): the root, never
    received, joins the requester's answers, in one batch and across batches, read ahead."""
    handler, out = ticketer(store)
    ann = Address(address="ann@customer.example", name="Ann")

    def answer(n: int, who: Address = ann) -> InboundEmail:
        refs = f"<root@customer.example> <other{n}@customer.example>"
        headers = MailHeaders(in_reply_to=f"<other{n}@customer.example>", references=[refs])
        return mail(n, headers=headers, subject="RE: Printer", **{"from": who})

    bob = Address(address="bob@customer.example", name="Bob")
    batch = [(m, DELIVERY) for m in (answer(1), answer(2), answer(3, bob))]
    with statements(store) as seen:
        assert handler.handle_batch(batch) == [None] * 3
    assert handler.handle_batch([(answer(4), DELIVERY)]) == [None]

    outcomes = [(p.message_id, p.outcome, p.record_id) for p in out.processed]
    ann_record, bob_record = outcomes[0][2], outcomes[2][2]
    assert outcomes == [
        ("g1", "created", ann_record),
        ("g2", "appended", ann_record),
        ("g3", "created", bob_record),
        ("g4", "appended", ann_record),
    ]
    assert ann_record != bob_record
    assert [r.message_count for r in store.list_records()] == [3, 1]
    # The roots were read ahead with the rest; asked again only once the batch stored one
    # (g2, g3), besides the appended record's summary for its event. SQLite reads ahead in one
    # read less but reads the record's status before appending g2 (a reopen is history).
    assert seen.count("SELECT") == (3 if store.dialect == "postgresql" else 2 + 1) + 3
