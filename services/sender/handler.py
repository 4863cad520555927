"""The sender's handler: one ``OutboundEmail`` job in, at most one message out, a result back.

Order (docs/sending.md, "How a job is handled"): checks and the send-as policy first (a
refusal is ``rejected`` and dead-lettered), then the job log's claim (a job logged ``sent``
is answered from the log and never sent again), then the rate limit, the MIME and Graph, then
``mark_sent`` and the ``sent`` result. The only gap in which a job can go out twice is a crash
after Graph accepted the message and before ``mark_sent``; the claim is then taken over once
it is stale, and the copy carries the same Message-ID.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn

import structlog

from libs.common.broker import Delivery
from libs.common.broker.policy import Outcome
from libs.common.contracts import BlobRef, OutboundEmail, OutboundResult
from libs.common.db.threads import RecordThread
from libs.common.errors import ContractError, PermanentError, RetryableError
from libs.common.graph import GraphPermanentError
from libs.common.settings import MailboxConfig, MailpipeConfig
from services.sender import metrics
from services.sender.config import SenderSettings
from services.sender.domain.attachments import AttachmentBytes
from services.sender.domain.mime import BuiltMessage, build_mime
from services.sender.domain.policy import (
    Rejection,
    SendDecision,
    decide_sender,
    fallback_decision,
    send_as_denied_message,
    validate_job,
)
from services.sender.domain.rate import SendRateLimiter
from services.sender.domain.thread import ThreadContext, thread_headers
from services.sender.joblog import JobLog
from services.sender.results import invalid_job_result, logged_result, refused_result, sent_result
from services.sender.transport import Delivered, GraphSender, deliver

log = structlog.get_logger("services.sender")


class SendAsDenied(PermanentError):
    """Exchange refused Send As and the mailbox has no fallback; the hint names the grant."""

    code = "send_as_denied"


class JobInProgress(RetryableError):
    """Another sender holds a fresh claim on this job; it comes back after a retry tier."""

    code = "job_in_progress"


@dataclass
class SenderPorts:
    """The adapters the handler talks through (real ones in app.py, fakes in unit tests)."""

    config: MailpipeConfig
    settings: SenderSettings
    joblog: JobLog
    read_blob: Callable[[BlobRef], bytes]
    graph_for: Callable[[MailboxConfig], GraphSender]
    thread_of: Callable[[int], RecordThread | None]
    publish: Callable[[OutboundResult], None]
    limiter: SendRateLimiter
    sleep: Callable[[float], None]


class SendHandler:
    def __init__(self, ports: SenderPorts) -> None:
        self.p = ports

    # -- the consumer's three hooks ----------------------------------------------------

    def __call__(self, job: OutboundEmail, delivery: Delivery) -> None:
        box, decision = self._decide(job)
        claim, entry = self.p.joblog.claim_job(job.job_id, stale_after=self.p.settings.stale_after)
        if claim in ("sent", "failed", "rejected"):
            log.info("job already final; answered from the job log", status=claim)
            metrics.JOBS.labels(status="duplicate").inc()
            self.p.publish(logged_result(job, entry))
            return
        if claim == "in_progress":
            raise JobInProgress(f"job {job.job_id} is being sent by another sender")
        try:
            thread = self._thread(job)
            done, final = self._send(job, box, decision, thread)
        except RetryableError as exc:
            self.p.joblog.mark_retry(job.job_id, code=exc.code, message=exc.message)
            raise
        except PermanentError as exc:
            # Answered here with the whole message (the dead-letter text is cut short).
            self._fail(job, exc.code, str(exc))
            raise
        self.p.joblog.mark_sent(
            job.job_id, internet_message_id=done.built.message_id, graph_request_id=done.request_id
        )
        self.p.publish(self._sent(job, final, done, thread, entry.attempts))
        metrics.JOBS.labels(status="sent").inc()
        log.info("job sent", path=done.path, sent_as=final.from_address, mode=final.mode)

    def on_invalid(self, body: bytes, delivery: Delivery, error: ContractError) -> None:
        result = invalid_job_result(body, error.message)
        if result is None:
            log.error("job without a readable job_id dead-lettered", error=error.message)
            return
        self.p.publish(result)
        metrics.JOBS.labels(status="rejected").inc()

    def on_dead(self, job: OutboundEmail, delivery: Delivery, outcome: Outcome) -> None:
        entry = self.p.joblog.get_job(job.job_id)
        if entry is not None and entry.status in ("rejected", "failed", "sent"):
            return  # already answered (a rejection raises to reach the dead-letter queue)
        self._fail(
            job, outcome.reason, outcome.error + (f" ({outcome.hint})" if outcome.hint else "")
        )

    def _fail(self, job: OutboundEmail, code: str, message: str) -> None:
        entry = self.p.joblog.mark_failed(job.job_id, code=code, message=message)
        self.p.publish(
            refused_result(job, "failed", code=code, message=message, attempts=entry.attempts)
        )
        metrics.JOBS.labels(status="failed").inc()
        log.error("job failed", code=code)

    # -- steps -------------------------------------------------------------------------

    def _mailbox(self, address: str) -> MailboxConfig | None:
        for box in self.p.config.mailboxes:
            if box.address == address.lower():
                return box
        return None

    def _decide(self, job: OutboundEmail) -> tuple[MailboxConfig, SendDecision]:
        """The mailbox and how to send, or a ``rejected`` result and a permanent error."""
        box = self._mailbox(job.mailbox)
        refusal = validate_job(job, box, max_bytes=self.p.settings.max_message_bytes)
        if refusal is None and box is not None:
            decided = decide_sender(job, box)
            if isinstance(decided, SendDecision):
                return box, decided
            refusal = decided
        assert refusal is not None
        self._reject(job, refusal)

    def _reject(self, job: OutboundEmail, rejection: Rejection) -> NoReturn:
        entry = self.p.joblog.mark_rejected(
            job.job_id, code=rejection.code, message=rejection.message
        )
        self.p.publish(
            refused_result(
                job,
                "rejected",
                code=rejection.code,
                message=rejection.message,
                attempts=entry.attempts,
            )
        )
        metrics.JOBS.labels(status="rejected").inc()
        log.warning("job rejected", code=rejection.code)
        raise rejection.error()

    def _send(
        self,
        job: OutboundEmail,
        box: MailboxConfig,
        decision: SendDecision,
        thread: ThreadContext | None,
    ) -> tuple[Delivered, SendDecision]:
        attachments = [
            AttachmentBytes.from_contract(a, self.p.read_blob(a.blob) if a.blob else None)
            for a in job.attachments
        ]
        graph = self.p.graph_for(box)
        try:
            return self._deliver(graph, job, box, decision, attachments, thread), decision
        except GraphPermanentError as exc:
            if exc.code != "ErrorSendAsDenied" or decision.agent is None:
                raise
            fallback = fallback_decision(decision, box)
            if fallback is None:
                raise SendAsDenied(
                    send_as_denied_message(decision.agent, box.address),
                    hint=f"grant Send As on {decision.agent} to {box.address} in Exchange",
                ) from None
            log.warning("send-as denied; sending from the mailbox", agent=decision.agent)
            return self._deliver(graph, job, box, fallback, attachments, thread), fallback

    def _deliver(
        self,
        graph: GraphSender,
        job: OutboundEmail,
        box: MailboxConfig,
        decision: SendDecision,
        attachments: Sequence[AttachmentBytes],
        thread: ThreadContext | None,
    ) -> Delivered:
        # Bound: only the attachments vary by path.
        build = functools.partial(_build, job, decision, box, thread)
        self._wait_for_rate(box.address)
        path = "unknown"
        try:
            done = deliver(graph, build, attachments)
            path = done.path
        except Exception:
            metrics.GRAPH_SENDS.labels(path=path, status="error").inc()
            raise
        metrics.GRAPH_SENDS.labels(path=path, status="accepted").inc()
        return done

    def _wait_for_rate(self, mailbox: str) -> None:
        wait = self.p.limiter.reserve(mailbox)
        if wait > 0:
            metrics.RATE_LIMIT_WAITS.inc()
            metrics.RATE_LIMIT_WAIT_SECONDS.inc(wait)
            log.info("holding the send for the mailbox's rate limit", wait_s=round(wait, 3))
            self.p.sleep(wait)

    def _thread(self, job: OutboundEmail) -> ThreadContext | None:
        if job.in_reply_to or job.references or job.record_id is None:
            return None
        found = self.p.thread_of(job.record_id)
        if found is None:
            return None
        return ThreadContext(found.last_inbound_message_id, found.message_ids)

    def _sent(
        self,
        job: OutboundEmail,
        decision: SendDecision,
        done: Delivered,
        thread: ThreadContext | None,
        attempts: int,
    ) -> OutboundResult:
        threading = thread_headers(job, thread, own_message_id=done.built.message_id)
        notes = [n for n in (decision.detail, _sent_items_note(job)) if n]
        return sent_result(
            job,
            done.built,
            sent_as=decision.from_address,
            attempts=attempts,
            graph_request_id=done.request_id,
            in_reply_to=threading.in_reply_to,
            references=threading.references,
            detail="; ".join(notes) or None,
        )


def _build(
    job: OutboundEmail,
    decision: SendDecision,
    box: MailboxConfig,
    thread: ThreadContext | None,
    attachments: Sequence[AttachmentBytes],
) -> BuiltMessage:
    return build_mime(
        job,
        decision,
        message_id_domain=box.id_domain,
        attachments=attachments,
        thread=thread,
        record_token=box.record_token_format,
    )


def _sent_items_note(job: OutboundEmail) -> str | None:
    if job.save_to_sent_items:
        return None
    return (
        "save_to_sent_items=false not applied: Graph keeps a copy in Sent Items of every "
        "MIME or draft send, the only ways that keep our Message-ID and threading headers"
    )
