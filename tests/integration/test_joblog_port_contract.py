"""The sender's job log port (``JobLogPort``): the same checks against :class:`JobLog` on
SQLite and PostgreSQL and against the shared fake (``tests/joblog_fake.py``), so the fake
cannot drift from the log.

Both run on a clock the test moves (:meth:`Backend.advance`), so stale claims need no sleep.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from services.sender.joblog import JobLog, JobLogPort
from tests.db_fixtures import FakeClock, fresh_database
from tests.joblog_fake import FakeJobLog

BOX = "support@contoso.com"
STALE = timedelta(minutes=10)


@dataclass
class Backend:
    log: JobLogPort
    #: Move the log's clock forward.
    advance: Callable[[timedelta], None]


def _real(database_url: str) -> Iterator[Backend]:
    clock = FakeClock()
    log = JobLog.open(database_url, clock=clock)

    def advance(by: timedelta) -> None:
        clock.now += by

    try:
        yield Backend(log, advance)
    finally:
        log.close()


def _fake() -> Iterator[Backend]:
    fake = FakeJobLog(FakeClock().now)

    def advance(by: timedelta) -> None:
        fake.now += by

    yield Backend(fake, advance)


@pytest.fixture(params=["sqlite", "postgresql", "fake"])
def port(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "fake":
        yield from _fake()
        return
    for database_url in fresh_database(request, request.param, tmp_path):
        yield from _real(database_url)


def test_the_first_claim_is_new_and_names_its_owner(port: Backend) -> None:
    log = port.log
    assert log.get_job("j1") is None
    claim, entry = log.claim_job("j1", mailbox="Support@Contoso.com", record_id=7)
    assert claim == "new"
    assert (entry.job_id, entry.status, entry.attempts) == ("j1", "sending", 1)
    assert (entry.mailbox, entry.record_id) == (BOX, 7)
    assert log.get_job("j1") == entry
    assert log.is_live(entry, stale_after=STALE)


def test_a_fresh_claim_is_in_progress_a_stale_one_is_resumed(port: Backend) -> None:
    log = port.log
    _, first = log.claim_job("j1", mailbox=BOX, record_id=7, stale_after=STALE)
    claim, entry = log.claim_job("j1", mailbox="other@contoso.com", stale_after=STALE)
    assert (claim, entry) == ("in_progress", first)
    port.advance(STALE + timedelta(seconds=1))
    assert not log.is_live(first, stale_after=STALE)
    claim, entry = log.claim_job("j1", mailbox="other@contoso.com", record_id=8)
    assert claim == "resume" and (entry.status, entry.attempts) == ("sending", 2)
    assert (entry.mailbox, entry.record_id) == (BOX, 7), "the first claim's owner stays"
    assert entry.updated_at > first.updated_at and log.is_live(entry, stale_after=STALE)


def test_touch_refreshes_only_this_attempts_claim(port: Backend) -> None:
    log = port.log
    _, first = log.claim_job("j1", mailbox=BOX)
    port.advance(timedelta(minutes=5))
    assert log.touch("j1", attempts=1)
    touched = log.get_job("j1")
    assert touched is not None and touched.updated_at > first.updated_at
    assert not log.touch("j1", attempts=2)
    assert not log.touch("nope", attempts=1)
    log.mark_retry("j1", code="throttled", message="429")
    assert not log.touch("j1", attempts=1)


def test_a_released_claim_is_resumed_at_once(port: Backend) -> None:
    log = port.log
    log.claim_job("j1", mailbox=BOX, record_id=7)
    entry = log.mark_retry("j1", code="throttled", message="429")
    assert (entry.status, entry.error_code, entry.error_message) == ("retrying", "throttled", "429")
    assert not log.is_live(entry, stale_after=STALE)
    claim, entry = log.claim_job("j1", mailbox=BOX)
    assert claim == "resume" and entry.attempts == 2 and entry.error_code == "throttled"


def test_sent_is_final_and_never_overwritten(port: Backend) -> None:
    log = port.log
    log.claim_job("j1", mailbox=BOX, record_id=7)
    log.mark_retry("j1", code="send_outcome_unknown", message="lost")
    log.claim_job("j1", mailbox=BOX)
    sent = log.mark_sent(
        "j1", internet_message_id="ack1@contoso.com", graph_request_id="req", subject="Re: x"
    )
    assert (sent.status, sent.attempts, sent.mailbox, sent.record_id) == ("sent", 2, BOX, 7)
    assert (sent.internet_message_id, sent.graph_request_id, sent.subject) == (
        "<ack1@contoso.com>",
        "req",
        "Re: x",
    )
    assert (sent.error_code, sent.error_message) == (None, None)
    assert log.claim_job("j1", mailbox=BOX) == ("sent", sent)
    assert log.mark_failed("j1", code="late", message="too late") == sent
    assert log.mark_retry("j1", code="late", message="too late") == sent
    assert log.get_job("j1") == sent


@pytest.mark.parametrize("status", ["failed", "rejected"])
def test_failed_and_rejected_are_final(port: Backend, status: str) -> None:
    log = port.log
    log.claim_job("j1", mailbox=BOX, record_id=7)
    finish = log.mark_failed if status == "failed" else log.mark_rejected
    entry = finish("j1", code="send_as_denied", message="no grant")
    assert (entry.status, entry.error_code, entry.error_message) == (
        status,
        "send_as_denied",
        "no grant",
    )
    assert (entry.attempts, entry.mailbox, entry.record_id) == (1, BOX, 7)
    assert log.claim_job("j1", mailbox=BOX) == (status, entry)
    assert not log.is_live(entry, stale_after=STALE)


def test_a_finish_without_a_claim_is_logged_as_one_attempt(port: Backend) -> None:
    log = port.log
    entry = log.mark_rejected("j1", code="contract", message="bad job")
    assert (entry.status, entry.attempts, entry.mailbox, entry.record_id) == (
        "rejected",
        1,
        None,
        None,
    )
    sent = log.mark_sent("j2", internet_message_id=None, graph_request_id=None)
    assert (sent.status, sent.attempts, sent.internet_message_id) == ("sent", 1, None)
    assert log.get_job("j2") == sent
