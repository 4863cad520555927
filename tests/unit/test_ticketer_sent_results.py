"""A ``sent`` result is stored on its record only when the record is the result's mailbox's
and the sender's job log says the same job id was sent there, with that Message-ID."""

from __future__ import annotations

from typing import Any

import pytest

from libs.common.contracts import OutboundResult
from services.ticketer.domain.sentcheck import LoggedFacts, SentClaim, refusal
from tests.unit.test_ticketer_handler import BOX, NOW, mail, make_rig

HELP2 = "help2@contoso.com"
MID = "<j1@mailpipe.contoso.com>"
CLAIM = SentClaim(BOX, 1, MID)


@pytest.mark.parametrize(
    ("record_mailbox", "logged", "expected"),
    [
        (BOX, LoggedFacts(BOX, 1, MID), None),
        ("HELP@contoso.com", LoggedFacts(BOX.upper(), 1, MID.strip("<>")), None),
        (None, LoggedFacts(BOX, 1, MID), "record_gone"),
        (HELP2, LoggedFacts(BOX, 1, MID), "record_not_in_mailbox"),
        (BOX, None, "not_in_job_log"),
        (BOX, LoggedFacts(HELP2, 1, MID), "differs_from_job_log"),
        (BOX, LoggedFacts(BOX, 2, MID), "differs_from_job_log"),
        (BOX, LoggedFacts(BOX, 1, "<other@x.y>"), "differs_from_job_log"),
        # Claimed before the log kept mailbox and record: the Message-ID decides.
        (BOX, LoggedFacts(None, None, MID), None),
        (BOX, LoggedFacts(None, None, "<other@x.y>"), "differs_from_job_log"),
    ],
)
def test_refusal(record_mailbox: str | None, logged: LoggedFacts | None, expected: str) -> None:
    assert refusal(CLAIM, record_mailbox, logged) == expected


def _sent(**fields: Any) -> OutboundResult:
    data = {
        "job_id": "j1",
        "mailbox": BOX,
        "status": "sent",
        "record_id": 1,
        "internet_message_id": MID,
        "subject": "Re: [#1] Printer",
        "finished_at": NOW,
    }
    return OutboundResult.model_validate(data | fields)


def _outbound(rig: Any) -> list[tuple[int, str]]:
    return [(r, m.internet_message_id) for r, m in rig.store.messages if m.direction == "out"]


def test_a_result_matching_the_job_log_is_stored_once() -> None:
    rig = make_rig()
    rig.ticketer.handle(mail(1))
    rig.store.sent_log["j1"] = LoggedFacts(BOX, 1, MID)
    rig.ticketer.handle_result(_sent())
    rig.ticketer.handle_result(_sent())  # the same answer again
    assert _outbound(rig) == [(1, MID)]
    assert [e.change for e in rig.outbox.events] == ["new_request", "outbound"]


def test_a_repeat_answered_for_a_record_of_another_mailbox_is_not_stored() -> None:
    # Record 2 is help2's; a job sent through support repeated with help2's mailbox and record.
    rig = make_rig()
    rig.ticketer.handle(mail(1))
    rig.store.records[2] = dict(rig.store.records[1], mailbox=HELP2)
    rig.store.sent_log["j1"] = LoggedFacts(BOX, 1, MID)
    rig.ticketer.handle_result(_sent(record_id=2))  # the result's mailbox is not the record's
    rig.ticketer.handle_result(_sent(mailbox=HELP2, record_id=2))  # not what the log says
    assert _outbound(rig) == []
    assert [e.change for e in rig.outbox.events] == ["new_request"]


def test_a_result_the_job_log_does_not_know_is_not_stored() -> None:
    rig = make_rig()
    rig.ticketer.handle(mail(1))
    rig.ticketer.handle_result(_sent())
    rig.store.sent_log["j1"] = LoggedFacts(BOX, 1, "<another@mailpipe.contoso.com>")
    rig.ticketer.handle_result(_sent())
    assert _outbound(rig) == []


def test_every_answer_still_confirms_its_outbox_job() -> None:
    rig = make_rig(auto_acknowledge=True)
    rig.ticketer.handle(mail(1))
    [job] = rig.outbox.jobs
    # Not in the job log, so not stored on the record; the outbox stops publishing it anyway.
    rig.ticketer.handle_result(_sent(job_id=job.job_id))
    assert rig.store.outbox[job.job_id]["status"] == "sent"
    assert _outbound(rig) == []
