"""The sender's job log on the shared database: claims, final states, races. Both backends."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from services.sender.joblog import JobLog
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

    # A retryable failure releases the claim; the redelivered job is sent again.
    log.mark_retry("job-1", code="throttled", message="429")
    claim, job = log.claim_job("job-1")
    assert (claim, job.attempts) == ("new", 2)

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
    assert (claim, job.attempts) == ("new", 2)

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
