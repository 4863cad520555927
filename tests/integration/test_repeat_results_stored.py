"""A repeated job id through the real sender's job log and the real record store (SQLite and
PostgreSQL): the repeat's answer says what was sent the first time, and the ticketer never
stores a message on a record of another mailbox, nor one the job log does not confirm."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from libs.common.contracts import OutboundResult
from libs.common.settings import MailboxConfig, MailpipeConfig
from services.sender.config import SenderSettings
from services.sender.domain.policy import SendRejected
from services.sender.domain.rate import RateLimit
from services.sender.handler import SenderPorts, SendHandler
from services.sender.joblog import JobLog
from services.sender.pacing import Pacer
from services.ticketer.handler import Ticketer
from services.ticketer.store import RecordStore
from tests.blobs_fake import FakeBlobs
from tests.mail_fake import FakeMailbox
from tests.slots_fake import FakeClock, FakeSendSlots, FakeStop
from tests.unit.test_sender_handler import DELIVERY, job
from tests.unit.test_ticketer_handler import NOW, FakeOutbox, mail

SUPPORT, HELP2 = "support@contoso.com", "help2@contoso.com"


def _box(address: str) -> MailboxConfig:
    data = {"address": address, "tenant_id": "t", "client_id": "c", "client_secret": "s"}
    return MailboxConfig.model_validate(data | {"auto_acknowledge": True})


@dataclass
class Pair:
    sender: SendHandler
    ticketer: Ticketer
    store: RecordStore
    results: list[OutboundResult]
    outbox: FakeOutbox


@pytest.fixture
def pair(database_url: str) -> Iterator[Pair]:
    config = MailpipeConfig(mailboxes=(_box(SUPPORT), _box(HELP2)))
    store = RecordStore.open(database_url)
    joblog = JobLog.open(database_url, migrate=False)
    fakes = {a: FakeMailbox(address=a) for a in (SUPPORT, HELP2)}
    clock = FakeClock()
    results: list[OutboundResult] = []
    ports = SenderPorts(
        config=config,
        settings=SenderSettings(),
        joblog=joblog,
        read_blob=lambda ref: b"",
        mail_for=lambda b: fakes[b.address],
        thread_of=lambda record_id: None,
        record_mailbox=store.record_mailbox,
        blob_size=lambda ref: None,
        publish=results.append,
        pacer=Pacer(FakeSendSlots(clock), RateLimit(limit=100), FakeStop(clock)),
        sleep=clock.sleep,
    )
    outbox = FakeOutbox()
    ticketer = Ticketer(store, FakeBlobs(), outbox, config, clock=lambda: NOW)
    try:
        yield Pair(SendHandler(ports), ticketer, store, results, outbox)
    finally:
        joblog.close()
        store.close()


def _record(pair: Pair, n: int, mailbox: str) -> int:
    pair.ticketer.handle(mail(n, mailbox=mailbox, to=({"address": mailbox},)))
    [record] = [r for r in pair.store.list_records() if r.mailbox == mailbox]
    return record.id


def _outbound(pair: Pair, record_id: int) -> list[Any]:
    detail = pair.store.get_record(record_id)
    assert detail is not None
    return [m for m in detail.messages if m.direction == "out"]


def test_a_repeat_through_another_mailbox_is_answered_and_stored_as_the_first(pair: Pair) -> None:
    mine, theirs = _record(pair, 1, SUPPORT), _record(pair, 2, HELP2)
    pair.sender(job("j1", record_id=mine, subject="Your order"), DELIVERY)
    repeat = job("j1", mailbox=HELP2, record_id=theirs, subject="Refund approved: 10,000 EUR")
    pair.sender(repeat, DELIVERY)
    first, second = pair.results
    assert (second.mailbox, second.record_id) == (SUPPORT, mine)
    assert second.subject == first.subject and "Refund" not in (second.subject or "")
    for result in (first, second):
        pair.ticketer.handle_result(result)
    # A result forged from the repeat's fields is not stored either.
    forged = second.model_copy(update={"mailbox": HELP2, "record_id": theirs})
    pair.ticketer.handle_result(forged)
    assert [m.internet_message_id for m in _outbound(pair, mine)] == [first.internet_message_id]
    assert _outbound(pair, theirs) == []


def test_the_store_reads_what_the_job_log_says_was_sent(pair: Pair, database_url: str) -> None:
    mine = _record(pair, 1, SUPPORT)
    assert pair.store.logged_send("j1") is None
    pair.sender(job("j1", record_id=mine), DELIVERY)
    logged = pair.store.logged_send("j1")
    assert logged is not None
    assert (logged.mailbox, logged.record_id) == (SUPPORT, mine)
    assert logged.internet_message_id == pair.results[0].internet_message_id


def test_a_job_that_takes_an_ack_id_first_does_not_block_the_acknowledgement(
    pair: Pair,
) -> None:
    # Published before record 1 exists, under the id an acknowledgement once had: rejected.
    guessed = job(f"ack:{SUPPORT}:1", from_address="ceo@contoso.com")
    with pytest.raises(SendRejected):
        pair.sender(guessed, DELIVERY)
    record_id = _record(pair, 1, SUPPORT)
    [ack] = pair.outbox.jobs
    assert ack.record_id == record_id and ack.job_id != guessed.job_id
    pair.sender(ack, DELIVERY)
    rejected, sent = pair.results
    assert (rejected.status, sent.status, sent.job_id) == ("rejected", "sent", ack.job_id)
    pair.ticketer.handle_result(sent)
    assert [m.internet_message_id for m in _outbound(pair, record_id)] == [sent.internet_message_id]
    assert pair.store.outbox_job(ack.job_id) is not None
    assert pair.store.pending_jobs() == 0, "the acknowledgement is confirmed by its own result"


def test_a_record_acknowledged_under_the_old_id_gets_no_second_one(pair: Pair) -> None:
    # The acknowledgement of record 1 reserved under the id acknowledgements had before their
    # ids carried a digest; its email then comes (back) to a ticketer of this version.
    old = f"ack:{SUPPORT}:1"
    pair.store.reserve_ack(
        old, mailbox=SUPPORT, recipient="x@customer.example", record_id=1, limit=3
    )
    assert pair.store.ack_reserved(old) and not pair.store.ack_reserved(old + ":0")
    assert _record(pair, 1, SUPPORT) == 1
    assert pair.outbox.jobs == [] and pair.store.pending_jobs() == 0
    _record(pair, 2, HELP2)
    [job] = pair.outbox.jobs
    assert job.mailbox == HELP2 and job.job_id.startswith(f"ack:{HELP2}:2:")
