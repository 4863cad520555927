"""The auto-acknowledgement's policy: whether a new record is acknowledged, to whom, under
which job id, and what it says (docs/ticketer.md, "Auto-acknowledgement").

Plain functions over plain data; the rate limit and the outbox are the store's
(``services/ticketer/acknowledge.py``), the contract mapping is ``convert.ack_job``'s.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from libs.common.contracts import Address, InboundEmail
from libs.common.subject_prefix import without_prefixes
from services.ticketer.domain.ackrules import AckRefusal, ack_refusal, colleague_refusal
from services.ticketer.domain.decision import NO_ACK, AckIntent
from services.ticketer.domain.verdict import Classification


@dataclass(frozen=True)
class AckPolicy:
    """A mailbox's acknowledgement settings, as the rules need them."""

    enabled: bool
    #: Every domain an acknowledgement must not go to (``ackrules.own_domains``).
    own_domains: tuple[str, ...] = ()
    #: With ``auto_ack_own_domain``: the mailbox's domain, whose colleagues may be answered.
    colleagues_at: str | None = None
    #: Every configured mailbox: never answered, colleagues or not.
    mailboxes: tuple[str, ...] = ()


def refusal(address: str | None, policy: AckPolicy) -> AckRefusal | None:
    """Why no acknowledgement may go to ``address`` (``None``: it may)."""
    if policy.colleagues_at is None:
        return ack_refusal(address, policy.own_domains)
    return colleague_refusal(address, policy.own_domains, policy.colleagues_at, policy.mailboxes)


def ack_intent(email: InboundEmail, verdict: Classification, policy: AckPolicy) -> AckIntent:
    """The intent for a new record made from ``email``: none when the mailbox does not
    acknowledge or the mail may not be answered automatically, refused (and why) for a From
    the rules refuse, else acknowledge."""
    if not policy.enabled or not verdict.may_acknowledge:
        return NO_ACK
    recipient = ack_recipient(email)
    why = refusal(recipient.address if recipient else None, policy)
    if why is not None or recipient is None:
        why = why or AckRefusal("no_from")
        return AckIntent("refused", why.reason, why.detail)
    return AckIntent("acknowledge")


def ack_recipient(email: InboundEmail) -> Address | None:
    """The From address, only: Reply-To (and Sender) name whoever the mail's author likes, and
    an automatic answer there is backscatter. Whether it may be answered at all is
    :func:`refusal`'s to say."""
    return email.from_


def ack_job_id(mailbox: str, record_id: int, message_id: str) -> str:
    """Deterministic per email, so a redelivered email asks for the same acknowledgement
    again; unguessable, so nobody can take the id first with a job of their own (which the
    sender would log and answer the real acknowledgement with). The digest is of the email's
    Graph id, which nobody outside the mailbox sees (docs/ticketer.md, "Auto-acknowledgement").
    """
    digest = hashlib.sha256(f"{mailbox.lower()}\n{message_id}".encode()).hexdigest()[:32]
    return f"ack:{mailbox.lower()}:{record_id}:{digest}"


def unhashed_ack_id(mailbox: str, record_id: int) -> str:
    """The acknowledgement id of a record before ids carried the email's digest."""
    return f"ack:{mailbox.lower()}:{record_id}"


def ack_subject(subject: str) -> str:
    """``Re:`` once and the customer's subject (already cleaned for our headers) without the
    prefixes their client put before it ("RE: AW: Drucker" → "Re: Drucker")."""
    subject = without_prefixes(subject)
    return f"Re: {subject}" if subject else "Re: your message"


def ack_text(token: str) -> str:
    return (
        "Thank you for your message. We have registered it as "
        f"{token} and will get back to you.\n\n"
        f"Please keep {token} in the subject when you write to us about it.\n\n"
        "This is an automatic reply."
    )


def ack_references(references: tuple[str, ...], message_id: str | None) -> tuple[str, ...]:
    """The mail's References and its own Message-ID, each once, oldest first (threading)."""
    return tuple(r for r in dict.fromkeys([*references, message_id or ""]) if r)
