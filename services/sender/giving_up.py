"""What the ``failed`` result of a job the sender gives up says: plain functions.

Every job ends with exactly one ``OutboundResult``. When the consumer loop gives a job up —
retries used up, an unexpected error (a bug), a crash loop (the job was handed back again and
again without a verdict) — the handler's ``on_dead`` answers ``failed`` with the reason and a
one-line hint of what to do; this module words that hint.
"""

from __future__ import annotations

from libs.common.broker.policy import REASON_DELIVERY_LIMIT, REASON_UNEXPECTED, Outcome
from libs.common.contracts import OutboundEmail

#: Where a given-up job waits for a person (the `mailpipe dead` command reads it).
_DEAD_QUEUE = "the job is kept in the sender's dead-letter queue (see mailpipe dead list)"


def crashed(outcome: Outcome) -> bool:
    """The job was given up because handling it kept ending the process (a crash loop)."""
    return outcome.reason == REASON_DELIVERY_LIMIT


def given_up(job: OutboundEmail, outcome: Outcome, attempts: int) -> tuple[str, str]:
    """``(error_code, error_message)`` of the ``failed`` result of a job given up."""
    if outcome.reason == REASON_UNEXPECTED:
        return REASON_UNEXPECTED, (
            f"the sender gave job {job.job_id} up after {attempts} attempts on an unexpected "
            f"error ({outcome.error}); this is a fault in mailpipe: report it with the "
            f"sender's log lines for this job id; {_DEAD_QUEUE}"
        )
    if crashed(outcome):
        return REASON_DELIVERY_LIMIT, (
            f"the sender stopped each time it took job {job.job_id} up ({outcome.error}); "
            f"report it with the sender's log; {_DEAD_QUEUE}"
        )
    hint = outcome.hint or f"fix the cause, then publish it again under a new job_id; {_DEAD_QUEUE}"
    return outcome.reason or "failed", f"{outcome.error or 'the job was given up'} ({hint})"
