"""Small reads the ticketer's handler and readiness probe need besides the main queries."""

from __future__ import annotations

from sqlalchemy import select, text

from libs.common.db import StoreBase, statistics
from libs.common.db.schema import sent_jobs
from services.ticketer.domain.sentcheck import LoggedFacts
from services.ticketer.store import _rows, _sql
from services.ticketer.store.models import RecordSummary

#: The tables every inbound email writes to.
BUSY_TABLES = ("records", "record_messages", "processed_log", "record_attachments")


class Lookups(StoreBase):
    def record_summary(self, record_id: int) -> RecordSummary | None:
        """The record without its messages (for events), or ``None`` when it is gone."""
        with self._read() as conn:
            row = conn.execute(_sql.RECORD, {"b_id": record_id}).first()
        return _rows.record_summary(row) if row is not None else None

    def record_mailbox(self, record_id: int) -> str | None:
        """The mailbox a record belongs to, or ``None`` when it does not exist."""
        with self._read() as conn:
            row = conn.execute(_sql.RECORD_MAILBOX, {"b_id": record_id}).first()
        return str(row[0]) if row is not None else None

    def logged_send(self, job_id: str) -> LoggedFacts | None:
        """What the sender's job log (same database) says it sent for ``job_id``; ``None``
        when the log holds no ``sent`` entry for it."""
        query = select(
            sent_jobs.c.mailbox, sent_jobs.c.record_id, sent_jobs.c.internet_message_id
        ).where(sent_jobs.c.job_id == job_id, sent_jobs.c.status == "sent")
        with self._read() as conn:
            row = conn.execute(query).first()
        return LoggedFacts(row[0], row[1], row[2]) if row is not None else None

    def ping(self) -> None:
        """One round trip to the database; raises ``StoreUnavailable`` when it is down."""
        with self._read() as conn:
            conn.execute(text("SELECT 1"))

    def refresh_statistics(self) -> list[str]:
        """PostgreSQL: ANALYZE the ticketer's busy tables that changed enough since their last
        analyze (see :mod:`libs.common.db.statistics`); the names of those analyzed."""
        return statistics.refresh(self._engine, BUSY_TABLES)
