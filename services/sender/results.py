"""The ``OutboundResult`` of a job, built from plain data (no broker, no Graph)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from libs.common.contracts import OutboundEmail, OutboundResult
from libs.common.contracts.outbound import ResultStatus
from libs.common.contracts.wire_json import peek_object
from services.sender.domain.mime import BuiltMessage
from services.sender.joblog import SentJob

#: Bodies copied into a sent result are cut here (the record keeps what it needs).
RESULT_TEXT_CHARS = 100_000


def _now() -> datetime:
    return datetime.now(UTC)


def sent_result(
    job: OutboundEmail,
    built: BuiltMessage,
    *,
    sent_as: str,
    attempts: int,
    graph_request_id: str | None,
    in_reply_to: str | None,
    references: tuple[str, ...],
    detail: str | None = None,
) -> OutboundResult:
    """What was sent, so a record can show it and the customer's answer threads back."""
    return OutboundResult(
        job_id=job.job_id,
        mailbox=job.mailbox,
        status="sent",
        attempts=attempts,
        record_id=job.record_id,
        internet_message_id=built.message_id,
        sent_as=sent_as,
        graph_request_id=graph_request_id,
        detail=detail,
        subject=built.subject,
        to=built.recipients.to,
        cc=built.recipients.cc,
        in_reply_to=in_reply_to,
        references=references,
        text=job.text[:RESULT_TEXT_CHARS] if job.text is not None else None,
        finished_at=_now(),
    )


def refused_result(
    job: OutboundEmail, status: ResultStatus, *, code: str, message: str, attempts: int
) -> OutboundResult:
    """A ``failed`` or ``rejected`` result; ``message`` says what to do."""
    return OutboundResult(
        job_id=job.job_id,
        mailbox=job.mailbox,
        status=status,
        attempts=attempts,
        record_id=job.record_id,
        error_code=code[:200],
        error_message=message[:4000],
        # Who it was for, so that whoever reads the answer knows which mail did not go out.
        to=job.to,
        cc=job.cc,
        finished_at=_now(),
    )


def logged_result(job: OutboundEmail, entry: SentJob) -> OutboundResult:
    """The result of a job the log says is final (a redelivery or a second publish).

    It says what the log holds of the first job with this id (its mailbox, record, subject and
    Message-ID), never what the repeat says: a repeat naming another mailbox or record must
    not get a sent message stored there (docs/sending.md, "A job id seen before").
    """
    if entry.status == "sent":
        return _already_sent(job.job_id, entry)
    status: ResultStatus = "rejected" if entry.status == "rejected" else "failed"
    refused = refused_result(
        job,
        status,
        code=entry.error_code or status,
        message=entry.error_message or f"the job was {status} before",
        attempts=entry.attempts,
    )
    return refused.model_copy(update=_logged_owner(entry, refused.mailbox))


def first_answer(answer: OutboundResult, entry: SentJob) -> OutboundResult:
    """``answer`` (to a job that breaks its contract) turned into the first result of its job
    id, which the log holds: a job id seen before is never given a second verdict."""
    if entry.status == "sent":
        return _already_sent(answer.job_id, entry)
    status: ResultStatus = "rejected" if entry.status == "rejected" else "failed"
    return OutboundResult(
        job_id=answer.job_id,
        attempts=entry.attempts,
        status=status,
        error_code=(entry.error_code or status)[:200],
        error_message=(entry.error_message or f"the job was {status} before")[:4000],
        finished_at=_now(),
        **_logged_owner(entry, answer.mailbox),
    )


def _already_sent(job_id: str, entry: SentJob) -> OutboundResult:
    """``sent`` with what the log says was sent. A log entry without its mailbox (written
    before revision 0004) is answered without mailbox and record: it confirms the job id, and
    nobody can store it on a record."""
    fields: dict[str, Any] = {
        "job_id": job_id,
        "status": "sent",
        "attempts": entry.attempts,
        "internet_message_id": entry.internet_message_id,
        "graph_request_id": entry.graph_request_id,
        "detail": "already sent: this job id was sent before, not again",
        "finished_at": _now(),
    }
    if entry.mailbox is not None:
        fields.update(mailbox=entry.mailbox, record_id=entry.record_id, subject=entry.subject)
    try:
        return OutboundResult(**fields)
    except ValidationError:  # a subject logged under an older, looser rule: leave it out
        fields.pop("subject", None)
        return OutboundResult(**fields)


def _logged_owner(entry: SentJob, fallback: str | None) -> dict[str, Any]:
    """The mailbox and record of the job that claimed the id first (the log's, when it has
    them; a refusal logged without a claim keeps ``fallback`` and no record)."""
    if entry.mailbox is None:
        return {"mailbox": fallback, "record_id": None}
    return {"mailbox": entry.mailbox, "record_id": entry.record_id}


def invalid_job_result(
    body: bytes, error: str, *, correlation_id: str = "", message_id: str = ""
) -> OutboundResult | None:
    """``rejected`` (``contract_violation``) for a job that fails its contract, keyed by the
    ``job_id`` of its raw JSON; when that is missing or unusable, by the message's AMQP
    ``correlation_id``, else its ``message_id`` (``detail`` says which); ``None`` when none
    of them can key an answer (the job is only dead-lettered)."""
    data = peek_object(body) or {}
    mailbox = data.get("mailbox")
    # The body's own job_id first, then the AMQP properties a publisher sets
    # (docs/publishing-jobs.md), in that order.
    keys: list[tuple[object, str | None]] = [
        (data.get("job_id"), None),
        (correlation_id, "correlation_id"),
        (message_id, "message_id"),
    ]
    for job_id, stand_in in keys:
        if not isinstance(job_id, str):
            continue
        detail = (
            f"the job has no usable job_id: answered under its AMQP {stand_in}"
            if stand_in
            else None
        )
        result = _contract_violation(job_id, mailbox, error, detail)
        if result is not None:
            return result
    return None


def _contract_violation(
    job_id: str, mailbox: object, error: str, detail: str | None
) -> OutboundResult | None:
    for box in (mailbox if isinstance(mailbox, str) else None, None):
        try:
            return OutboundResult(
                job_id=job_id,
                mailbox=box,
                status="rejected",
                attempts=1,
                error_code="contract_violation",
                error_message=error[:4000],
                detail=detail,
                finished_at=_now(),
            )
        except ValidationError:
            continue  # a malformed mailbox: answer without it; a bad job id: no answer
    return None
