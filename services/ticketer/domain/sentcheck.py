"""Whether a ``sent`` OutboundResult may be stored as an outbound message on its record
(docs/ticketer.md, "Results of sent jobs").

A result is what the sender says; the record is only written when that agrees with the
record (it belongs to the result's mailbox) and with the sender's job log (the same job id
was sent through that mailbox, for that record, with that Message-ID). Otherwise a job that
repeats another's id, or a result published by anyone else, could put a message that was
never sent on a record of another mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SentClaim:
    """What a ``sent`` result says: through which mailbox, for which record, which Message-ID."""

    mailbox: str
    record_id: int
    internet_message_id: str


@dataclass(frozen=True)
class LoggedFacts:
    """What the job log holds for the job id (``mailbox`` and ``record_id`` are ``None`` for
    an entry written before the log kept them)."""

    mailbox: str | None
    record_id: int | None
    internet_message_id: str | None


def refusal(claim: SentClaim, record_mailbox: str | None, logged: LoggedFacts | None) -> str | None:
    """Why the result is not stored (a short reason for the log and the metric), or ``None``."""
    if record_mailbox is None:
        return "record_gone"
    if record_mailbox.lower() != claim.mailbox.lower():
        return "record_not_in_mailbox"
    if logged is None:
        return "not_in_job_log"
    if _mid(logged.internet_message_id) != _mid(claim.internet_message_id):
        return "differs_from_job_log"
    if logged.mailbox is None:
        # Claimed before the log kept mailbox and record (a job in flight across the upgrade):
        # its Message-ID, made from the mailbox and job id, is what there is to compare.
        return None
    if logged.mailbox.lower() != claim.mailbox.lower() or logged.record_id != claim.record_id:
        return "differs_from_job_log"
    return None


def _mid(message_id: str | None) -> str:
    """Message-IDs compare without their angle brackets (the log normalises them)."""
    return (message_id or "").strip().strip("<>")
