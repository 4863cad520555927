"""The sender's job log (send each job id once) and the auto-acknowledgement rate log."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from services.ticketer.store import _rows
from services.ticketer.store._base import RACE_ROUNDS, StoreBase
from services.ticketer.store.engine import describe
from services.ticketer.store.errors import StoreError
from services.ticketer.store.models import Claim, JobStatus, SentJob
from services.ticketer.store.schema import ack_log, sent_jobs

#: A ``sending`` claim older than this belongs to a sender that died mid-send.
DEFAULT_STALE_AFTER = timedelta(minutes=10)
_FINAL: frozenset[str] = frozenset({"sent", "failed", "rejected"})


class Jobs(StoreBase):
    def claim_job(
        self, job_id: str, *, stale_after: timedelta = DEFAULT_STALE_AFTER
    ) -> tuple[Claim, SentJob]:
        """Claim a job for sending.

        ``new``: this caller holds the claim and sends (first time, after ``mark_retry``, or
        taking over a stale claim — the one case that can send twice, see docs/records.md).
        ``in_progress``: another sender holds a fresh claim; requeue and try later.
        ``sent`` / ``failed`` / ``rejected``: final; republish the logged result, send nothing.
        """
        last: IntegrityError | None = None
        for _ in range(RACE_ROUNDS):
            try:
                with self._write() as conn:
                    return self._claim(conn, job_id, stale_after)
            except IntegrityError as exc:  # another sender inserted the claim first
                last = exc
        raise StoreError(
            f"job {job_id}: could not claim ({describe(last) if last else 'unknown'})",
            hint="check the database; the job is redelivered and claimed again",
        )

    def _claim(
        self, conn: Connection, job_id: str, stale_after: timedelta
    ) -> tuple[Claim, SentJob]:
        now = self._clock()
        query = select(sent_jobs).where(sent_jobs.c.job_id == job_id)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()  # SQLite's BEGIN IMMEDIATE already serialises
        row = conn.execute(query).first()
        if row is None:
            conn.execute(
                insert(sent_jobs).values(
                    job_id=job_id, status="sending", attempts=1, updated_at=now
                )
            )
            return "new", _job(conn, job_id)
        if row.status in _FINAL:
            return row.status, _rows.sent_job(row)
        if row.status == "sending" and row.updated_at > now - stale_after:
            return "in_progress", _rows.sent_job(row)
        conn.execute(
            update(sent_jobs)
            .where(sent_jobs.c.job_id == job_id)
            .values(status="sending", attempts=sent_jobs.c.attempts + 1, updated_at=now)
        )
        return "new", _job(conn, job_id)

    def get_job(self, job_id: str) -> SentJob | None:
        with self._read() as conn:
            row = conn.execute(select(sent_jobs).where(sent_jobs.c.job_id == job_id)).first()
        return _rows.sent_job(row) if row is not None else None

    def mark_sent(
        self, job_id: str, *, internet_message_id: str | None, graph_request_id: str | None
    ) -> SentJob:
        return self._finish(
            job_id,
            "sent",
            internet_message_id=_rows.norm_mid(internet_message_id),
            graph_request_id=graph_request_id,
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

    # -- auto-acknowledgement rate ----------------------------------------------------------

    def reserve_ack(
        self,
        job_id: str,
        *,
        mailbox: str,
        recipient: str,
        record_id: int | None,
        limit: int,
        window: timedelta = timedelta(hours=1),
    ) -> bool:
        """Reserve one auto-acknowledgement to ``recipient`` if fewer than ``limit`` went out
        in ``window``. Idempotent per ``job_id``: asking again answers ``True`` again."""
        recipient = _rows.norm_address(recipient)
        for _ in range(RACE_ROUNDS):
            try:
                with self._write() as conn:
                    return self._reserve(conn, job_id, mailbox, recipient, record_id, limit, window)
            except IntegrityError:  # the same job id reserved concurrently: read it next round
                continue
        return False

    def _reserve(
        self,
        conn: Connection,
        job_id: str,
        mailbox: str,
        recipient: str,
        record_id: int | None,
        limit: int,
        window: timedelta,
    ) -> bool:
        if conn.dialect.name == "postgresql":
            # Serialise count-then-insert per recipient, so two ticketers cannot both take the
            # last slot (SQLite's BEGIN IMMEDIATE serialises all writers already).
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:r))"), {"r": recipient})
        if conn.execute(select(ack_log.c.id).where(ack_log.c.job_id == job_id)).first():
            return True
        now = self._clock()
        if _count(conn, recipient, now - window) >= limit:
            return False
        conn.execute(
            insert(ack_log).values(
                job_id=job_id,
                mailbox=_rows.norm_address(mailbox),
                recipient=recipient,
                record_id=record_id,
                sent_at=now,
            )
        )
        return True

    def count_acks_since(self, recipient: str, since: datetime) -> int:
        with self._read() as conn:
            return _count(conn, _rows.norm_address(recipient), since)


def _count(conn: Connection, recipient: str, since: datetime) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(ack_log)
            .where(ack_log.c.recipient == recipient, ack_log.c.sent_at >= since)
        ).scalar_one()
    )


def _job(conn: Connection, job_id: str) -> SentJob:
    return _rows.sent_job(conn.execute(select(sent_jobs).where(sent_jobs.c.job_id == job_id)).one())
