"""From a decided job to the mailbox: attachments read, MIME built, the send-as fallback, metrics.

The handler (services/sender/handler.py) owns the claim and the answers; this module only
sends, and builds the ``sent`` result of what was sent.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

import structlog

from libs.common import mail
from libs.common.contracts import BlobRef, OutboundEmail, OutboundResult
from libs.common.errors import PermanentError
from libs.common.settings import MailboxConfig
from services.sender import metrics
from services.sender.domain.attachments import AttachmentBytes
from services.sender.domain.mime import BuiltMessage, build_mime
from services.sender.domain.policy import SendDecision, fallback_decision, send_as_denied_message
from services.sender.domain.thread import ThreadContext, thread_headers
from services.sender.results import sent_result
from services.sender.transport import Delivered, deliver

log = structlog.get_logger("services.sender")

#: The ``detail`` of a ``sent`` result for a job an earlier attempt had already sent.
FOUND_IN_SENT_ITEMS = "found in Sent Items: an earlier attempt sent it; not sent again"


class SendAsDenied(PermanentError):
    """Exchange refused Send As and the mailbox has no fallback; the hint names the grant."""

    code = "send_as_denied"


def send_job(
    sender: mail.MailSender,
    job: OutboundEmail,
    box: MailboxConfig,
    decision: SendDecision,
    thread: ThreadContext | None,
    *,
    read_blob: Callable[[BlobRef], bytes],
    in_slot: Callable[[], AbstractContextManager[None]],
) -> tuple[Delivered, SendDecision]:
    """Send the job (each send inside ``in_slot()``: the mailbox's send slot, the claim
    checked); the delivery and the decision it went out under (the fallback's, when Send As
    failed)."""
    attachments = [
        AttachmentBytes.from_contract(a, read_blob(a.blob) if a.blob else None)
        for a in job.attachments
    ]
    try:
        return _deliver(sender, job, box, decision, attachments, thread, in_slot), decision
    except mail.SendAsDenied:
        if decision.agent is None:
            raise
        fallback = fallback_decision(decision, box)
        if fallback is None:
            raise SendAsDenied(
                send_as_denied_message(decision.agent, box.address),
                hint=f"grant Send As on {decision.agent} to {box.address} in Exchange",
            ) from None
        log.warning("send-as denied; sending from the mailbox", agent=decision.agent)
        return _deliver(sender, job, box, fallback, attachments, thread, in_slot), fallback


def _deliver(
    sender: mail.MailSender,
    job: OutboundEmail,
    box: MailboxConfig,
    decision: SendDecision,
    attachments: Sequence[AttachmentBytes],
    thread: ThreadContext | None,
    in_slot: Callable[[], AbstractContextManager[None]],
) -> Delivered:
    # Bound: only the attachments vary by path.
    build = functools.partial(build_message, job, decision, box, thread)
    path = "unknown"
    with in_slot():
        try:
            done = deliver(sender, build, attachments)
            path = done.path
        except Exception:
            metrics.GRAPH_SENDS.labels(path=path, status="error").inc()
            raise
    metrics.GRAPH_SENDS.labels(path=path, status="accepted").inc()
    return done


def build_message(
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


def job_sent_result(
    job: OutboundEmail,
    decision: SendDecision,
    done: Delivered,
    thread: ThreadContext | None,
    attempts: int,
    *,
    found: bool = False,
) -> OutboundResult:
    """The ``sent`` result; ``found``: an earlier attempt's copy was found in Sent Items."""
    threading = thread_headers(job, thread, own_message_id=done.built.message_id)
    notes = [n for n in (decision.detail, _sent_items_note(job)) if n]
    if found:
        notes.insert(0, FOUND_IN_SENT_ITEMS)
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


def _sent_items_note(job: OutboundEmail) -> str | None:
    if job.save_to_sent_items:
        return None
    return (
        "save_to_sent_items=false not applied: Graph keeps a copy in Sent Items of every "
        "MIME or draft send, the only ways that keep our Message-ID and threading headers"
    )
