"""What handling emails publishes and reports, derived from the stored decisions, and kept
until the writes behind it are committed.

:func:`effects_for` is the one derivation of the messages an email's stored decision publishes
(ProcessedEmail, RecordEvent, the auto-acknowledgement): the first delivery and every
redelivery call it with what was stored, so both publish the same, and nothing is decided
again. ``Effects`` collects the messages and reports (metrics, the "email handled" log line)
of a batch: it shares one transaction, and if that is rolled back the batch is handled again,
so nothing may be published or counted before the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from libs.common.contracts import OutboundEmail
from services.ticketer import convert
from services.ticketer.domain.acknowledgement import ack_job_id
from services.ticketer.domain.decision import ack_from_stored
from services.ticketer.ports import Effect
from services.ticketer.store.models import ProcessedRow, RecordSummary


@dataclass
class Effects:
    messages: list[Effect] = field(default_factory=list)
    reports: list[Callable[[], None]] = field(default_factory=list)

    def publish(self, message: Effect) -> None:
        self.messages.append(message)

    def report(self, report: Callable[[], None]) -> None:
        self.reports.append(report)

    def extend(self, other: Effects) -> None:
        self.messages.extend(other.messages)
        self.reports.extend(other.reports)

    def make_reports(self) -> None:
        for report in self.reports:
            report()


def effects_for(
    row: ProcessedRow,
    record: RecordSummary | None,
    job: OutboundEmail | None,
    now: datetime,
) -> list[Effect]:
    """The messages of a stored decision: its ProcessedEmail; for a record it created or
    appended to, the RecordEvent with the stored change (``record``: the record as stored,
    ``None`` when deleted since: nothing to announce); for a new record, the acknowledgement
    job the outbox holds for it (``job``, see :func:`acknowledgement_job_id`)."""
    messages: list[Effect] = [convert.processed_email(row)]
    if _on_record(row) and row.change and record is not None:
        messages.append(convert.record_event(record, row.change, row.internet_message_id, now))
    if job is not None and row.outcome == "created":
        messages.append(job)
    return messages


def record_of(row: ProcessedRow) -> int | None:
    """The record whose event a stored decision announces (``None``: no event)."""
    return row.record_id if _on_record(row) and row.change else None


def acknowledgement_job_id(row: ProcessedRow) -> str | None:
    """The outbox job holding the acknowledgement a stored decision asked for: for a new
    record whose intent was ``acknowledge`` — or unknown, on a row stored before intents
    were — the job id the acknowledgement of this email has. ``None``: none to look for."""
    if row.outcome != "created" or row.record_id is None:
        return None
    intent = ack_from_stored(row.ack)
    if intent is not None and intent.state != "acknowledge":
        return None
    return ack_job_id(row.mailbox, row.record_id, row.message_id)


def _on_record(row: ProcessedRow) -> bool:
    return row.outcome in ("created", "appended") and row.record_id is not None
