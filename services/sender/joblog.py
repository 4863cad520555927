"""The sender's job log: each ``OutboundEmail.job_id`` is sent once (see docs/records.md).

A repository on the shared database (:mod:`libs.common.db`, table ``sent_jobs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, cast

from sqlalchemy import Row, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from libs.common.db import RACE_ROUNDS, StoreBase, rows
from libs.common.db.engine import describe
from libs.common.db.errors import StoreError
from libs.common.db.schema import sent_jobs

JobStatus = Literal["sending", "retrying", "sent", "failed", "rejected"]
#: What :meth:`JobLog.claim_job` tells the sender to do.
Claim = Literal["new", "resume", "in_progress", "sent", "failed", "rejected"]
#: ``error_code`` of a ``retrying`` job whose send may have gone out (Graph's answer lost).
OUTCOME_UNKNOWN = "send_outcome_unknown"

#: A ``sending`` claim older than this belongs to a sender that died mid-send.
DEFAULT_STALE_AFTER = timedelta(minutes=10)
#: The states a job ends in; a job id logged in one is answered from the log, never again.
FINAL: frozenset[str] = frozenset({"sent", "failed", "rejected"})


@dataclass(frozen=True)
class SentJob:
    """The sender's log entry for one ``OutboundEmail`` job id."""

    job_id: str
    status: JobStatus
    attempts: int
    updated_at: datetime
    internet_message_id: str | None = None
    graph_request_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    #: The mailbox and record of the job that claimed the id first (``None``: logged before
    #: revision 0004, or never claimed), and the subject that was sent.
    mailbox: str | None = None
    record_id: int | None = None
    subject: str | None = None


class JobLogPort(Protocol):
    """What the send handler needs of the job log (:class:`JobLog`; a fake in unit tests)."""

    def claim_job(
        self,
        job_id: str,
        *,
        mailbox: str | None = None,
        record_id: int | None = None,
        stale_after: timedelta = DEFAULT_STALE_AFTER,
    ) -> tuple[Claim, SentJob]: ...

    def touch(self, job_id: str, *, attempts: int) -> bool: ...

    def is_live(self, entry: SentJob, *, stale_after: timedelta) -> bool: ...

    def get_job(self, job_id: str) -> SentJob | None: ...

    def mark_sent(
        self,
        job_id: str,
        *,
        internet_message_id: str | None,
        graph_request_id: str | None,
        subject: str | None = None,
    ) -> SentJob: ...

    def mark_failed(self, job_id: str, *, code: str, message: str) -> SentJob: ...

    def mark_rejected(self, job_id: str, *, code: str, message: str) -> SentJob: ...

    def mark_retry(self, job_id: str, *, code: str, message: str) -> SentJob: ...

    def close(self) -> None: ...


class JobLog(StoreBase):
    """Open with ``JobLog.open(database_url)``; thread-safe, one transaction per call."""

    def claim_job(
        self,
        job_id: str,
        *,
        mailbox: str | None = None,
        record_id: int | None = None,
        stale_after: timedelta = DEFAULT_STALE_AFTER,
    ) -> tuple[Claim, SentJob]:
        """Claim a job for sending; the first claim logs the job's ``mailbox`` and
        ``record_id``, which every later answer to the job id carries (never a repeat's).

        ``new``: first claim of this job id; this caller holds it and sends.
        ``resume``: this caller holds the claim of a job tried before (after ``mark_retry``,
        or taking over a stale claim of a sender that died): an earlier attempt may have
        sent it, so the sender looks in Sent Items first (docs/sending.md).
        ``in_progress``: another sender holds a fresh claim; requeue and try later.
        ``sent`` / ``failed`` / ``rejected``: final; republish the logged result, send nothing.
        """
        last: IntegrityError | None = None
        for _ in range(RACE_ROUNDS):
            try:
                with self._write() as conn:
                    return self._claim(conn, job_id, (mailbox, record_id), stale_after)
            except IntegrityError as exc:  # another sender inserted the claim first
                last = exc
        raise StoreError(
            f"job {job_id}: could not claim ({describe(last) if last else 'unknown'})",
            hint="check the database; the job is redelivered and claimed again",
        )

    def _claim(
        self,
        conn: Connection,
        job_id: str,
        owner: tuple[str | None, int | None],
        stale_after: timedelta,
    ) -> tuple[Claim, SentJob]:
        now = self._clock()
        query = select(sent_jobs).where(sent_jobs.c.job_id == job_id)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()  # SQLite's BEGIN IMMEDIATE already serialises
        row = conn.execute(query).first()
        if row is None:
            conn.execute(
                insert(sent_jobs).values(
                    job_id=job_id,
                    status="sending",
                    attempts=1,
                    updated_at=now,
                    mailbox=owner[0].lower() if owner[0] else None,
                    record_id=owner[1],
                )
            )
            return "new", _job(conn, job_id)
        if row.status in FINAL:
            return row.status, sent_job(row)
        if row.status == "sending" and row.updated_at > now - stale_after:
            return "in_progress", sent_job(row)
        conn.execute(
            update(sent_jobs)
            .where(sent_jobs.c.job_id == job_id)
            .values(status="sending", attempts=sent_jobs.c.attempts + 1, updated_at=now)
        )
        return "resume", _job(conn, job_id)

    def touch(self, job_id: str, *, attempts: int) -> bool:
        """Refresh a live claim so it never looks stale while its job is in hand.

        False when the claim is no longer this attempt's (finished, released or taken over:
        another attempt number); the caller must then not send.
        """
        with self._write() as conn:
            done = conn.execute(
                update(sent_jobs)
                .where(
                    sent_jobs.c.job_id == job_id,
                    sent_jobs.c.status == "sending",
                    sent_jobs.c.attempts == attempts,
                )
                .values(updated_at=self._clock())
            )
            return bool(done.rowcount)

    def is_live(self, entry: SentJob, *, stale_after: timedelta = DEFAULT_STALE_AFTER) -> bool:
        """Whether ``entry`` is a claim a sender still holds (``sending``, not yet stale)."""
        return entry.status == "sending" and entry.updated_at > self._clock() - stale_after

    def get_job(self, job_id: str) -> SentJob | None:
        with self._read() as conn:
            row = conn.execute(select(sent_jobs).where(sent_jobs.c.job_id == job_id)).first()
        return sent_job(row) if row is not None else None

    def mark_sent(
        self,
        job_id: str,
        *,
        internet_message_id: str | None,
        graph_request_id: str | None,
        subject: str | None = None,
    ) -> SentJob:
        return self._finish(
            job_id,
            "sent",
            internet_message_id=rows.norm_mid(internet_message_id),
            graph_request_id=graph_request_id,
            subject=subject,
            error_code=None,
            error_message=None,
        )

    def mark_failed(self, job_id: str, *, code: str, message: str) -> SentJob:
        """Final failure: a redelivered job is not sent again."""
        return self._finish(job_id, "failed", error_code=code, error_message=message)

    def mark_rejected(self, job_id: str, *, code: str, message: str) -> SentJob:
        """Refused by policy (send-as, contract): final."""
        return self._finish(job_id, "rejected", error_code=code, error_message=message)

    def mark_retry(self, job_id: str, *, code: str, message: str) -> SentJob:
        """A retryable failure: release the claim so the redelivered job is sent again."""
        return self._finish(job_id, "retrying", error_code=code, error_message=message)

    def _finish(self, job_id: str, status: JobStatus, **values: Any) -> SentJob:
        with self._write() as conn:
            # "sent" is the truth once logged: a late failure report never overwrites it.
            done = conn.execute(
                update(sent_jobs)
                .where(sent_jobs.c.job_id == job_id, sent_jobs.c.status != "sent")
                .values(status=status, updated_at=self._clock(), **values)
            )
            if (
                done.rowcount == 0
                and conn.execute(select(sent_jobs.c.id).where(sent_jobs.c.job_id == job_id)).first()
                is None
            ):
                conn.execute(
                    insert(sent_jobs).values(
                        job_id=job_id, status=status, attempts=1, updated_at=self._clock(), **values
                    )
                )
            return _job(conn, job_id)


def sent_job(row: Row[Any]) -> SentJob:
    r = rows.mapping(row)
    return SentJob(
        job_id=r["job_id"],
        status=cast(JobStatus, r["status"]),
        attempts=r["attempts"],
        updated_at=r["updated_at"],
        internet_message_id=r["internet_message_id"],
        graph_request_id=r["graph_request_id"],
        error_code=r["error_code"],
        error_message=r["error_message"],
        mailbox=r["mailbox"],
        record_id=r["record_id"],
        subject=r["subject"],
    )


def _job(conn: Connection, job_id: str) -> SentJob:
    return sent_job(conn.execute(select(sent_jobs).where(sent_jobs.c.job_id == job_id)).one())
