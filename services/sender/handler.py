"""The sender's handler: one ``OutboundEmail`` job in, at most one message out, a result back.

Order (docs/sending.md, "How a job is handled"): the job log's claim first (a job id seen
before is answered with its first result, whatever else it says), then the checks and the
send-as policy (a refusal is ``rejected`` and dead-lettered), then the rate limit, the MIME and
Graph, then ``mark_sent`` and the ``sent`` result; whatever makes the sender give a job up
ends in one ``failed`` result (:mod:`services.sender.giving_up`). An attempt that may follow
one which sent the job (a lost answer from Graph, a crash, a failed log write) looks for the
job's Message-ID in Sent Items first and sends only when it is not there; the claim is
refreshed while in hand, so a live one is never taken over. What remains is in
docs/sending.md, "The duplicate window".
"""

from __future__ import annotations

import functools
from typing import NoReturn

import structlog

from libs.common.broker import Delivery
from libs.common.broker.policy import REASON_UNEXPECTED, Outcome, error_text
from libs.common.contracts import OutboundEmail
from libs.common.errors import ContractError, MailpipeError, PermanentError, RetryableError
from libs.common.mail import OutcomeUnknown
from libs.common.settings import MailboxConfig
from services.sender import metrics
from services.sender.claim import ClaimLost, Heartbeat, log_sent
from services.sender.dispatch import SendAsDenied, build_message, job_sent_result, send_job
from services.sender.domain.authority import decide_job
from services.sender.domain.policy import Rejection, SendDecision, SendRejected, decide_sender
from services.sender.domain.thread import ThreadContext
from services.sender.giving_up import crashed, given_up
from services.sender.joblog import FINAL, OUTCOME_UNKNOWN
from services.sender.pacing import SenderStopping
from services.sender.ports import JobInProgress, SenderPorts
from services.sender.results import (
    first_answer,
    invalid_job_result,
    logged_result,
    refused_result,
)
from services.sender.transport import Delivered

log = structlog.get_logger("services.sender")

__all__ = ["JobInProgress", "SendAsDenied", "SendHandler", "SenderPorts"]


class SendHandler:
    def __init__(self, ports: SenderPorts) -> None:
        self.ports = ports

    # -- the consumer's three hooks ----------------------------------------------------

    def __call__(self, job: OutboundEmail, delivery: Delivery) -> None:
        # The log first: a repeated job id gets its first answer, never a second verdict.
        claim, entry = self.ports.joblog.claim_job(
            job.job_id,
            mailbox=job.mailbox,
            record_id=job.record_id,
            stale_after=self.ports.settings.stale_after,
        )
        if claim in FINAL:
            log.info("job already final; answered from the job log", status=claim)
            metrics.JOBS.labels(status="duplicate").inc()
            self.ports.publish(logged_result(job, entry))
            return
        if claim == "in_progress":
            raise JobInProgress(f"job {job.job_id} is being sent by another sender")
        # The claim is refreshed while the job is in hand, so it never looks stale to the
        # other senders however long the rate limit, Graph's retries or an upload take.
        beat = functools.partial(self.ports.joblog.touch, job.job_id, attempts=entry.attempts)
        with Heartbeat(beat, self.ports.settings.heartbeat_s) as heart:
            self._claimed(job, delivery, heart, resume=claim == "resume", attempts=entry.attempts)

    def _claimed(
        self,
        job: OutboundEmail,
        delivery: Delivery,
        heart: Heartbeat,
        *,
        resume: bool,
        attempts: int,
    ) -> None:
        try:
            sent = self._attempt(job, delivery, heart, resume=resume, attempts=attempts)
        except (ClaimLost, SendRejected):
            raise  # another sender has the job / already answered ``rejected``
        except SenderStopping:
            self._release(job)
            raise
        except OutcomeUnknown as exc:
            # Maybe sent: the retry looks in Sent Items before sending again.
            self.ports.joblog.mark_retry(job.job_id, code=OUTCOME_UNKNOWN, message=exc.message)
            raise
        except RetryableError as exc:
            self.ports.joblog.mark_retry(job.job_id, code=exc.code, message=exc.message)
            raise
        except PermanentError as exc:
            # Answered here with the whole message (the dead-letter text is cut short).
            self._fail(job, exc.code, str(exc))
            raise
        except Exception as exc:
            # A bug or a fault nobody foresaw: the claim is released (never left ``sending``),
            # the retry tiers try again, and when they are used up on_dead answers ``failed``.
            self.ports.joblog.mark_retry(
                job.job_id, code=REASON_UNEXPECTED, message=error_text(exc)
            )
            raise
        if sent is None:
            return
        done, final, thread = sent
        self._answer_sent(job, final, done, thread, attempts)
        log.info("job sent", path=done.path, sent_as=final.from_address, mode=final.mode)

    def _attempt(
        self,
        job: OutboundEmail,
        delivery: Delivery,
        heart: Heartbeat,
        *,
        resume: bool,
        attempts: int,
    ) -> tuple[Delivered, SendDecision, ThreadContext | None] | None:
        """Send the job: what went out, under which decision, in which thread (``None``: an
        earlier attempt had sent it, and it is answered already)."""
        box, decision = self._decide(job, delivery.routing_key)
        thread = self._thread(job)
        # An earlier attempt may have sent it (lost answer, crash, log write failed).
        if resume and self._already_in_sent_items(job, box, decision, thread, attempts):
            return None
        done, final = send_job(
            self.ports.mail_for(box),
            job,
            box,
            decision,
            thread,
            read_blob=self.ports.read_blob,
            in_slot=functools.partial(self.ports.pacer.slot, box.address, heart),
        )
        return done, final, thread

    def _answer_sent(
        self,
        job: OutboundEmail,
        decision: SendDecision,
        done: Delivered,
        thread: ThreadContext | None,
        attempts: int,
        *,
        found: bool = False,
    ) -> None:
        """Log the job as sent, then publish its ``sent`` result."""
        log_sent(
            functools.partial(
                self.ports.joblog.mark_sent,
                job.job_id,
                internet_message_id=done.built.message_id,
                graph_request_id=done.request_id,
                subject=done.built.subject,
            ),
            self.ports.sleep,
        )
        self.ports.publish(job_sent_result(job, decision, done, thread, attempts, found=found))
        metrics.JOBS.labels(status="sent").inc()

    def _already_in_sent_items(
        self,
        job: OutboundEmail,
        box: MailboxConfig,
        decision: SendDecision,
        thread: ThreadContext | None,
        attempts: int,
    ) -> bool:
        """Look for the job's Message-ID in Sent Items (the From's: Gmail files a message sent
        as an agent in their own Sent); when there, log and answer ``sent``."""
        built = build_message(job, decision, box, thread, ())
        if not self.ports.mail_for(box).find_sent(built.message_id, sender=decision.from_address):
            return False
        done = Delivered(built, "mime", None)
        self._answer_sent(job, decision, done, thread, attempts, found=True)
        log.info("job found in Sent Items; not sent again", message_id=built.message_id)
        return True

    def on_invalid(self, body: bytes, delivery: Delivery, error: ContractError) -> None:
        ids = {"correlation_id": delivery.correlation_id, "message_id": delivery.message_id}
        result = invalid_job_result(body, error.message, **ids)
        if result is None:  # nothing a publisher could match an answer to
            log.error(
                "job without a job_id, correlation_id or message_id dead-lettered",
                error=error.message,
            )
            return
        entry = self.ports.joblog.get_job(result.job_id)
        if entry is not None and entry.status in FINAL:
            result = first_answer(result, entry)  # a job id seen before: its first result
        self.ports.publish(result)
        metrics.JOBS.labels(status=result.status).inc()

    def on_dead(self, job: OutboundEmail, delivery: Delivery, outcome: Outcome) -> None:
        entry = self.ports.joblog.get_job(job.job_id)
        if entry is not None and entry.status in FINAL:
            return  # already answered (a rejection raises to reach the dead-letter queue)
        if (
            entry is not None
            and not crashed(outcome)
            and self.ports.joblog.is_live(entry, stale_after=self.ports.settings.stale_after)
        ):
            # Another sender is sending it right now and will publish the one result. (Not
            # after a crash loop: the live claim is then this message's own, from a process
            # that died holding it.)
            log.warning("retries used up while another sender holds the job; no result here")
            return
        if entry is not None and self._dead_but_sent(job, entry.attempts):
            return
        code, message = given_up(job, outcome, delivery.attempt)
        self._fail(job, code, message)

    def _dead_but_sent(self, job: OutboundEmail, attempts: int) -> bool:
        """A last look in Sent Items before answering ``failed`` (an attempt may have sent it)."""
        box = self._mailbox(job.mailbox)
        decision = decide_sender(job, box) if box is not None else None
        if box is None or not isinstance(decision, SendDecision):
            return False
        try:
            return self._already_in_sent_items(job, box, decision, None, attempts)
        except MailpipeError as exc:
            log.warning("could not look in Sent Items for a dead job", error=exc.code)
            return False
        except Exception as exc:  # the job's message cannot even be built: never sent
            log.warning("a dead job's message cannot be built to look for", error=error_text(exc))
            return False

    def _fail(self, job: OutboundEmail, code: str, message: str) -> None:
        entry = self.ports.joblog.mark_failed(job.job_id, code=code, message=message)
        self.ports.publish(
            refused_result(job, "failed", code=code, message=message, attempts=entry.attempts)
        )
        metrics.JOBS.labels(status="failed").inc()
        log.error("job failed", code=code)

    # -- steps -------------------------------------------------------------------------

    def _mailbox(self, address: str) -> MailboxConfig | None:
        for box in self.ports.config.mailboxes:
            if box.address == address.lower():
                return box
        return None

    def _decide(self, job: OutboundEmail, routing_key: str) -> tuple[MailboxConfig, SendDecision]:
        """The mailbox and how to send, or a ``rejected`` result and a permanent error."""
        box = self._mailbox(job.mailbox)
        decided = decide_job(
            job,
            box,
            routing_key,
            limits_of=lambda box: self.ports.mail_for(box).send_limits,
            max_bytes=self.ports.settings.max_message_bytes,
            blob_size=self.ports.blob_size,
            record_mailbox=self.ports.record_mailbox,
        )
        if isinstance(decided, Rejection):
            self._reject(job, decided)
        assert box is not None  # decide_job rejects a job for an unknown mailbox
        return box, decided

    def _reject(self, job: OutboundEmail, rejection: Rejection) -> NoReturn:
        entry = self.ports.joblog.mark_rejected(
            job.job_id, code=rejection.code, message=rejection.message
        )
        self.ports.publish(
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

    def _release(self, job: OutboundEmail) -> None:
        """Give the claim up: the next sender takes the job at once, not once it is stale."""
        try:
            self.ports.joblog.mark_retry(
                job.job_id, code=SenderStopping.code, message="the sender stopped while it waited"
            )
        except RetryableError as exc:  # the database is out too: the claim goes stale
            log.warning("could not release the claim of a job given back", error=exc.code)

    def _thread(self, job: OutboundEmail) -> ThreadContext | None:
        if job.in_reply_to or job.references or job.record_id is None:
            return None
        found = self.ports.thread_of(job.record_id)
        if found is None:
            return None
        return ThreadContext(found.last_inbound_message_id, found.message_ids)
