"""What a job may claim about itself: the checks that close the send policy (docs/sending.md,
"Checks beyond the contract"). Plain functions; the facts they need from the broker, the
database and the blob store come in as values or small callables.

* The routing key a job was published with names the mailbox it goes through, and the job's
  ``mailbox`` must be that one: a broker can give a publisher the right to one routing key
  (RabbitMQ topic permissions), and a job must not escape it through its body.
* A ``record_id`` must be a record of the job's mailbox: a job through mailbox B is never
  added to a record of mailbox A.
* Display names may not pose as addresses (``"ceo@contoso.com <ceo@…>" <support@…>``).
* A blob reference's ``size`` is the blob's real size, so the size rules count real bytes.
"""

from __future__ import annotations

from collections.abc import Callable

from libs.common.contracts import BlobRef, OutboundEmail
from libs.common.contracts.names import display_name_problem
from libs.common.settings import MailboxConfig
from services.sender.domain.mime import header_rejection
from services.sender.domain.policy import (
    LimitsOf,
    Rejection,
    SendDecision,
    decide_sender,
    validate_job,
)

#: The prefix of a job's routing key; the rest is the mailbox (``outbound.support@contoso.com``).
ROUTING_PREFIX = "outbound."


def decide_job(
    job: OutboundEmail,
    box: MailboxConfig | None,
    routing_key: str,
    *,
    limits_of: LimitsOf,
    max_bytes: int | None,
    blob_size: Callable[[BlobRef], int | None],
    record_mailbox: Callable[[int], str | None],
) -> SendDecision | Rejection:
    """Every check a job must pass, then how it is sent (or why it is not)."""
    refusal = (
        check_routing_key(job, routing_key)
        # Real blob sizes before the size rules count them.
        or check_blob_sizes(job, blob_size)
        or validate_job(job, box, limits_of=limits_of, max_bytes=max_bytes)
        or check_names(job)
        or check_record(job, record_mailbox)
    )
    if refusal is not None or box is None:
        return refusal or Rejection("unknown_mailbox", f"mailbox {job.mailbox} is not configured")
    decided = decide_sender(job, box)
    if isinstance(decided, Rejection):
        return decided
    # Last: a trial build proves every header reads back as given (no injection, no long line).
    return (
        header_rejection(
            job, decided, message_id_domain=box.id_domain, record_token=box.record_token_format
        )
        or decided
    )


def check_routing_key(job: OutboundEmail, routing_key: str) -> Rejection | None:
    """The routing key must be ``outbound.<the job's mailbox>`` (any case).

    An empty key means none is known (a job handed over without a broker) and passes.
    """
    if not routing_key:
        return None
    expected = f"{ROUTING_PREFIX}{job.mailbox.lower()}"
    if routing_key.lower() == expected:
        return None
    return Rejection(
        "routing_key_mismatch",
        f"the job was published with routing key {routing_key!r} but names mailbox "
        f"{job.mailbox}: publish it with routing key {expected!r}, or change its mailbox",
    )


def check_names(job: OutboundEmail) -> Rejection | None:
    """``from_name`` and every recipient's name must not look like address syntax."""
    named = [("from_name", job.from_name)]
    for field, group in (("to", job.to), ("cc", job.cc), ("bcc", job.bcc)):
        named += [(f"{field} {a.address}", a.name) for a in group]
    named += [(f"reply_to {a.address}", a.name) for a in job.reply_to]
    for where, name in named:
        problem = display_name_problem(name) if name else None
        if problem is not None:
            return Rejection(
                "display_name_not_allowed",
                f"the display name of {where} ({name[:80]!r}) is not allowed: {problem}; "
                "give a plain name (no @, < >, quotes or backslashes) or none",
            )
    return None


def check_record(job: OutboundEmail, mailbox_of: Callable[[int], str | None]) -> Rejection | None:
    """A ``record_id`` must name a record of the job's mailbox (``mailbox_of``: the record's
    mailbox, ``None`` when there is no such record)."""
    if job.record_id is None:
        return None
    owner = mailbox_of(job.record_id)
    if owner is not None and owner.lower() == job.mailbox.lower():
        return None
    where = "does not exist" if owner is None else "belongs to another mailbox"
    return Rejection(
        "record_not_in_mailbox",
        f"record {job.record_id} {where}, not to {job.mailbox}: send the job through the "
        "mailbox the record belongs to, or leave record_id out",
    )


def check_blob_sizes(
    job: OutboundEmail, real_size: Callable[[BlobRef], int | None]
) -> Rejection | None:
    """Each blob reference's ``size`` must be the stored blob's size (``real_size``: ``None``
    when the blob is not there, which the read of the blob reports later)."""
    for att in job.attachments:
        if att.blob is None:
            continue
        real = real_size(att.blob)
        if real is not None and real != att.blob.size:
            return Rejection(
                "blob_size_mismatch",
                f"attachment {att.name!r}: its blob reference says {att.blob.size} bytes but "
                f"the blob {att.blob.sha256[:12]}… holds {real}: give the blob's real size",
            )
    return None
