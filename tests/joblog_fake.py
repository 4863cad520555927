"""The shared in-memory fake of the sender's job log (``services.sender.joblog.JobLogPort``).

Unit tests use it instead of a database; ``tests/integration/test_joblog_port_contract.py``
runs the same checks against it and against :class:`~services.sender.joblog.JobLog` on SQLite
and PostgreSQL, so it keeps the log's rules: the first claim's mailbox and record stay, a
stale or released claim is resumed with one more attempt, ``sent`` is never overwritten, a
finish keeps what the entry held unless it says otherwise, and Message-IDs are stored in their
canonical form. Where it deliberately does less (the contract checks none of this): ``now`` is
its clock, moved by the tests, and there are no races between senders.

Knobs tests turn: ``fail_mark_sent`` (the next N ``mark_sent`` calls fail as a database outage
would); ``touched`` is set by every refreshed claim.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from libs.common.db.errors import StoreUnavailable
from libs.common.msgid import canonical_message_id
from services.sender.joblog import (
    DEFAULT_STALE_AFTER,
    FINAL,
    Claim,
    JobLogPort,
    JobStatus,
    SentJob,
)


class FakeJobLog:
    """The job log's rules over a dict; ``now`` is its clock, moved by the tests."""

    def __init__(self, now: datetime | None = None) -> None:
        self.jobs: dict[str, SentJob] = {}
        self.now = now or datetime.now(UTC)
        self.touched = threading.Event()
        #: The next N ``mark_sent`` calls fail as a database outage would.
        self.fail_mark_sent = 0

    def claim_job(
        self,
        job_id: str,
        *,
        mailbox: str | None = None,
        record_id: int | None = None,
        stale_after: timedelta = DEFAULT_STALE_AFTER,
    ) -> tuple[Claim, SentJob]:
        old = self.jobs.get(job_id)
        if old is None:
            owner = mailbox.lower() if mailbox else None
            self.jobs[job_id] = SentJob(
                job_id, "sending", 1, self.now, mailbox=owner, record_id=record_id
            )
            return "new", self.jobs[job_id]
        if old.status in FINAL:
            return cast(Claim, old.status), old
        if self.is_live(old, stale_after=stale_after):
            return "in_progress", old
        self.jobs[job_id] = replace(
            old, status="sending", attempts=old.attempts + 1, updated_at=self.now
        )
        return "resume", self.jobs[job_id]

    def touch(self, job_id: str, *, attempts: int) -> bool:
        old = self.jobs.get(job_id)
        if old is None or old.status != "sending" or old.attempts != attempts:
            return False
        self.jobs[job_id] = replace(old, updated_at=self.now)
        self.touched.set()
        return True

    def is_live(self, entry: SentJob, *, stale_after: timedelta = DEFAULT_STALE_AFTER) -> bool:
        return entry.status == "sending" and entry.updated_at > self.now - stale_after

    def get_job(self, job_id: str) -> SentJob | None:
        return self.jobs.get(job_id)

    def mark_sent(
        self,
        job_id: str,
        *,
        internet_message_id: str | None,
        graph_request_id: str | None,
        subject: str | None = None,
    ) -> SentJob:
        if self.fail_mark_sent:
            self.fail_mark_sent -= 1
            raise StoreUnavailable("the database dropped the connection")
        return self._finish(
            job_id,
            "sent",
            internet_message_id=canonical_message_id(internet_message_id),
            graph_request_id=graph_request_id,
            subject=subject,
            error_code=None,
            error_message=None,
        )

    def mark_failed(self, job_id: str, *, code: str, message: str) -> SentJob:
        return self._finish(job_id, "failed", error_code=code, error_message=message)

    def mark_rejected(self, job_id: str, *, code: str, message: str) -> SentJob:
        return self._finish(job_id, "rejected", error_code=code, error_message=message)

    def mark_retry(self, job_id: str, *, code: str, message: str) -> SentJob:
        return self._finish(job_id, "retrying", error_code=code, error_message=message)

    def _finish(self, job_id: str, status: JobStatus, **values: Any) -> SentJob:
        old = self.jobs.get(job_id)
        if old is None:  # never claimed: logged as one attempt, with no owner
            self.jobs[job_id] = SentJob(job_id, status, 1, self.now, **values)
        elif old.status != "sent":  # "sent" is the truth once logged
            self.jobs[job_id] = replace(old, status=status, updated_at=self.now, **values)
        return self.jobs[job_id]

    def close(self) -> None:
        pass


# mypy holds the fake to the port it stands for: a fake that drifts fails the type check.
_FAKE_JOBLOG: JobLogPort = FakeJobLog()
