"""The outbox: jobs for the sender, stored where the decision to send them was written.

A job enters in the transaction that decided it (inside the handler's ``unit``), so a crash
either keeps the record *and* its acknowledgement, or neither. The relay
(:mod:`services.ticketer.relay`) publishes what is due and keeps publishing, with backoff,
until an ``OutboundResult`` for the job id confirms it (:meth:`OutboxRows.confirm_job`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from libs.common.db import StoreBase, rows
from libs.common.db.schema import outbox
from services.ticketer.store.models import OutboxRow

#: Given the attempts a claim makes (1 for the first publish), how long until the next one.
Backoff = Callable[[int], timedelta]

_PENDING = outbox.c.confirmed_at.is_(None)


class OutboxRows(StoreBase):
    def add_job(
        self, job_id: str, mailbox: str, body: str, *, published: bool = False, delay: timedelta
    ) -> bool:
        """Store a job (``body``: its JSON) unless its id is there; ``True`` when stored now.

        ``published``: the caller publishes it itself right after the commit, so this counts
        as the first attempt and the relay waits ``delay`` before publishing it again.
        Inside a unit the caller's transaction is used (a lost race raises UnitConflict).
        """
        now = self._clock()
        values = {
            "job_id": job_id,
            "mailbox": rows.norm_address(mailbox),
            "body": body,
            "attempts": 1 if published else 0,
            "created_at": now,
            "next_attempt_at": now + delay,
        }
        try:
            with self._write() as conn:
                if conn.execute(select(outbox.c.id).where(outbox.c.job_id == job_id)).first():
                    return False
                conn.execute(insert(outbox).values(**values))
        except IntegrityError:  # outside a unit: the same id stored concurrently, it is there
            return False
        return True

    def queue_job(self, job_id: str, mailbox: str, body: str) -> bool:
        """A job from outside the ticketer (``mailpipe send`` against ``mailpipe run``): due
        at once. ``False`` when the id is already in the outbox (nothing changes)."""
        return self.add_job(job_id, mailbox, body, delay=timedelta(0))

    def claim_due(self, limit: int, backoff: Backoff) -> list[OutboxRow]:
        """Claim up to ``limit`` unconfirmed jobs that are due: each one's next attempt moves
        ``backoff(attempts)`` ahead, so that no other relay takes it meanwhile."""
        now = self._clock()
        query = (
            select(outbox)
            .where(_PENDING, outbox.c.next_attempt_at <= now)
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            # A read first: an idle relay asks every second, and a write transaction would
            # take SQLite's write lock from the inbound batches each time.
            if conn.execute(query.with_only_columns(outbox.c.id)).first() is None:
                return []
        with self._write() as conn:
            if conn.dialect.name == "postgresql":
                # Rows another relay is claiming right now are skipped, not waited for
                # (SQLite's BEGIN IMMEDIATE serialises the claims already).
                query = query.with_for_update(skip_locked=True)
            found = list(conn.execute(query))
            for row in found:
                _claim(conn, row.id, row.attempts + 1, now + backoff(row.attempts + 1))
        return [_row(r, attempts=r.attempts + 1) for r in found]

    def mark_published(self, job_ids: Sequence[str]) -> None:
        """The broker confirmed these jobs: note when (the next attempt stays as claimed)."""
        if not job_ids:
            return
        with self._write() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.job_id.in_(list(job_ids)))
                .values(published_at=self._clock())
            )

    def confirm_job(self, job_id: str, status: str, result: str) -> bool:
        """The sender answered for ``job_id`` (``result``: the OutboundResult as JSON): no
        more publishing. ``True`` when this confirmed an unconfirmed outbox job."""
        with self._write() as conn:
            done = conn.execute(
                update(outbox)
                .where(outbox.c.job_id == job_id, _PENDING)
                .values(result_status=status, result=result, confirmed_at=self._clock())
            )
            return bool(done.rowcount)

    def outbox_job(self, job_id: str) -> OutboxRow | None:
        with self._read() as conn:
            row = conn.execute(select(outbox).where(outbox.c.job_id == job_id)).first()
        return _row(row) if row is not None else None

    def pending_jobs(self) -> int:
        """Jobs the sender has not answered yet."""
        with self._read() as conn:
            return int(
                conn.execute(select(func.count()).select_from(outbox).where(_PENDING)).scalar_one()
            )

    def make_pending_due(self) -> int:
        """Every unconfirmed job due now: after a restart of ``mailpipe run`` the in-memory
        queue that held them is gone, so waiting out their backoff only delays them."""
        with self._write() as conn:
            done = conn.execute(
                update(outbox).where(_PENDING).values(next_attempt_at=self._clock())
            )
            return int(done.rowcount)

    def forget_confirmed(self, before: datetime) -> int:
        """Drop jobs confirmed before ``before`` (the sender's job log keeps their outcome)."""
        with self._write() as conn:
            done = conn.execute(
                outbox.delete().where(
                    outbox.c.confirmed_at.is_not(None), outbox.c.confirmed_at < before
                )
            )
            return int(done.rowcount)


def _claim(conn: Connection, row_id: int, attempts: int, due: datetime) -> None:
    conn.execute(
        update(outbox).where(outbox.c.id == row_id).values(attempts=attempts, next_attempt_at=due)
    )


def _row(r: Row[Any], *, attempts: int | None = None) -> OutboxRow:
    return OutboxRow(
        job_id=r.job_id,
        mailbox=r.mailbox,
        body=r.body,
        attempts=r.attempts if attempts is None else attempts,
        created_at=r.created_at,
        next_attempt_at=r.next_attempt_at,
        published_at=r.published_at,
        result_status=r.result_status,
        result=r.result,
    )
