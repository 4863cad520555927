"""The sender's job log on the shared database: claims, final states, races. Both backends."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from libs.common.contracts import OutboundEmail
from services.sender.joblog import JobLog
from services.sender.results import logged_result
from tests.db_fixtures import FakeClock


@pytest.fixture
def clocked(database_url: str) -> Iterator[tuple[JobLog, FakeClock]]:
    clock = FakeClock()
    log = JobLog.open(database_url, clock=clock)
    try:
        yield log, clock
    finally:
        log.close()


def test_sent_jobs_claim_and_mark(clocked: tuple[JobLog, FakeClock]) -> None:
    log, clock = clocked
    claim, job = log.claim_job("job-1")
    assert claim == "new" and job.status == "sending" and job.attempts == 1
    assert log.claim_job("job-1")[0] == "in_progress"

    # A retryable failure releases the claim; the redelivered job is claimed again, as a
    # resumption (the sender looks in Sent Items before sending).
    log.mark_retry("job-1", code="throttled", message="429")
    claim, job = log.claim_job("job-1")
    assert (claim, job.attempts) == ("resume", 2)

    sent = log.mark_sent(
        "job-1", internet_message_id="out-1@mailpipe.example", graph_request_id="req-1"
    )
    assert sent.status == "sent" and sent.internet_message_id == "<out-1@mailpipe.example>"
    claim, job = log.claim_job("job-1")
    assert claim == "sent" and job.graph_request_id == "req-1"
    # Sent is final: a late failure report does not overwrite it.
    assert log.mark_failed("job-1", code="x", message="late").status == "sent"
    assert log.get_job("job-1") == job

    # A claim left by a sender that died is taken over once it is stale.
    log.claim_job("job-2")
    clock.now += timedelta(minutes=11)
    claim, job = log.claim_job("job-2")
    assert (claim, job.attempts) == ("resume", 2)

    log.claim_job("job-3")
    log.mark_rejected("job-3", code="send_as_denied", message="not allowed")
    assert log.claim_job("job-3")[0] == "rejected"
    log.claim_job("job-4")
    failed = log.mark_failed("job-4", code="invalid_recipient", message="bad address")
    assert log.claim_job("job-4") == ("failed", failed)
    assert log.get_job("nope") is None


def test_concurrent_claims_of_one_job_let_one_sender_send(job_log: JobLog) -> None:
    start = threading.Barrier(6)

    def claim(_: int) -> str:
        start.wait()
        return job_log.claim_job("job-race")[0]

    with ThreadPoolExecutor(6) as pool:
        claims = sorted(pool.map(claim, range(6)))
    assert claims == ["in_progress"] * 5 + ["new"]


def test_a_heartbeat_keeps_a_claim_fresh_and_tells_a_taken_over_one(
    clocked: tuple[JobLog, FakeClock],
) -> None:
    log, clock = clocked
    stale = timedelta(minutes=10)
    _, job = log.claim_job("job-hb", stale_after=stale)
    for _ in range(3):  # half an hour in hand, refreshed every 8 minutes
        clock.now += timedelta(minutes=8)
        assert log.touch("job-hb", attempts=job.attempts)
        assert log.claim_job("job-hb", stale_after=stale)[0] == "in_progress"
    entry = log.get_job("job-hb")
    assert entry is not None and log.is_live(entry, stale_after=stale)

    clock.now += timedelta(minutes=11)  # its sender died: stale, taken over
    entry = log.get_job("job-hb")
    assert entry is not None and not log.is_live(entry, stale_after=stale)
    claim, taken = log.claim_job("job-hb", stale_after=stale)
    assert (claim, taken.attempts) == ("resume", 2)
    assert not log.touch("job-hb", attempts=job.attempts), "the old attempt's claim is gone"
    assert log.touch("job-hb", attempts=taken.attempts)
    log.mark_sent("job-hb", internet_message_id="<a@b.c>", graph_request_id=None)
    assert not log.touch("job-hb", attempts=taken.attempts), "a finished job has no claim"


def test_the_first_claim_owns_the_mailbox_record_and_subject(
    clocked: tuple[JobLog, FakeClock],
) -> None:
    log, _ = clocked
    log.claim_job("job-own", mailbox="Support@Contoso.com", record_id=5)
    # A repeat naming another mailbox and record changes nothing the log holds.
    assert log.claim_job("job-own", mailbox="help2@contoso.com", record_id=9)[0] == "in_progress"
    log.mark_sent(
        "job-own", internet_message_id="<o@x.y>", graph_request_id=None, subject="Hi [#5]"
    )
    claim, entry = log.claim_job("job-own", mailbox="help2@contoso.com", record_id=9)
    assert claim == "sent"
    assert (entry.mailbox, entry.record_id, entry.subject) == ("support@contoso.com", 5, "Hi [#5]")
    answer = logged_result(_job("job-own", mailbox="help2@contoso.com", record_id=9), entry)
    assert (answer.mailbox, answer.record_id, answer.subject) == (
        "support@contoso.com",
        5,
        "Hi [#5]",
    )
    assert answer.internet_message_id == "<o@x.y>"


def _job(job_id: str, **fields: object) -> OutboundEmail:
    data = {
        "job_id": job_id,
        "to": [{"address": "c@example.org"}],
        "subject": "Refund",
        "text": "x",
    }
    return OutboundEmail.model_validate(data | fields)
