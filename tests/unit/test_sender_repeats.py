"""A repeated job id is answered with what the job log says was sent the first time: its
mailbox, record, subject and Message-ID, never with what the repeat says."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from libs.common.errors import ContractError
from services.sender.domain.policy import SendRejected
from services.sender.joblog import SentJob
from services.sender.results import first_answer, invalid_job_result, logged_result
from tests.unit.test_sender_handler import DELIVERY, MAILBOX, job, rig

HELP2 = "help2@contoso.com"


def test_a_repeat_naming_another_mailbox_and_record_gets_the_first_jobs_answer() -> None:
    r = rig(records={5: MAILBOX, 9: HELP2})
    r.handler(job("j1", record_id=5, subject="Your order"), DELIVERY)
    repeat = job("j1", mailbox=HELP2, record_id=9, subject="Refund approved: 10,000 EUR")
    r.handler(repeat, DELIVERY)
    assert len(r.graph.sent) == 1, "the repeat is not sent"
    first, second = r.published
    assert second.status == "sent" and "already sent" in (second.detail or "")
    assert (second.mailbox, second.record_id) == (MAILBOX, 5)
    assert second.subject == first.subject and "Refund" not in (second.subject or "")
    assert second.internet_message_id == first.internet_message_id


def test_a_repeat_of_a_rejected_job_keeps_the_first_jobs_mailbox_and_record() -> None:
    r = rig(records={5: MAILBOX, 9: HELP2})
    with pytest.raises(SendRejected):
        r.handler(job("j1", record_id=5, from_address="ceo@contoso.com"), DELIVERY)
    r.handler(job("j1", mailbox=HELP2, record_id=9), DELIVERY)
    first, second = r.published
    assert [first.status, second.status] == ["rejected", "rejected"]
    assert (second.mailbox, second.record_id) == (MAILBOX, 5)
    assert second.error_code == first.error_code


def test_a_repeat_that_breaks_the_contract_gets_the_logged_sent_answer() -> None:
    r = rig()
    r.handler(job("j1", record_id=5), DELIVERY)
    body = b'{"job_id": "j1", "mailbox": "help2@contoso.com", "record_id": 9}'
    r.handler.on_invalid(body, DELIVERY, ContractError("the job breaks its contract"))
    first, second = r.published
    assert second.status == "sent"
    assert (second.mailbox, second.record_id) == (MAILBOX, 5)
    assert second.internet_message_id == first.internet_message_id


def test_a_log_entry_without_its_mailbox_is_answered_with_no_record() -> None:
    # Logged before the log kept the first job's mailbox: nothing to store it on.
    entry = SentJob("j1", "sent", 1, datetime.now(UTC), internet_message_id="<a@b.c>")
    answer = logged_result(job("j1", mailbox=HELP2, record_id=9), entry)
    assert (answer.status, answer.mailbox, answer.record_id, answer.subject) == (
        "sent",
        None,
        None,
        None,
    )
    invalid = invalid_job_result(b'{"job_id": "j1", "mailbox": "help2@contoso.com"}', "bad")
    assert invalid is not None
    assert first_answer(invalid, entry).record_id is None
