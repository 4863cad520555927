"""Who a job may be sent as, and the checks a job needs beyond its contract.

The app permission Mail.Send lets mailpipe send as *anyone* in the tenant, so mailpipe
itself enforces the allowlist: a job is sent as the mailbox, or as an agent listed in the
mailbox's ``send_as``, or not at all. Exchange's own Send As grant is checked by Graph
(403 ``ErrorSendAsDenied``); see :func:`fallback_decision` for what happens then.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from libs.common.contracts import Address, OutboundEmail
from libs.common.errors import PermanentError
from libs.common.mail.models import SendLimits
from libs.common.settings import MailboxConfig
from services.sender.domain.addresses import ascii_address, unique_recipients
from services.sender.domain.sizing import estimate_body_cost, estimate_message_size

#: The send limits of a mailbox's provider (the mailbox's ``MailSender.send_limits``).
LimitsOf = Callable[[MailboxConfig], SendLimits]

#: How to grant Exchange "Send As"; one text for rejections, denials and the docs.
SEND_AS_DELEGATION_HINT = (
    "grant Send As in Exchange: Exchange admin center > Recipients > Mailboxes > {agent} > "
    "Delegation > Send as > Edit > add {mailbox} (the service mailbox the app sends through); "
    "or in Exchange Online PowerShell: Add-RecipientPermission -Identity {agent} "
    "-Trustee {mailbox} -AccessRights SendAs (allow up to an hour to take effect)"
)

SendMode = Literal["mailbox", "send_as", "fallback"]


@dataclass(frozen=True)
class SendDecision:
    """How a job goes out: which mailbox sends it, and the From it carries."""

    #: The service mailbox: the Graph user whose sendMail is called.
    mailbox: str
    #: The From header (and, for ``send_as``, Graph's ``from``).
    from_address: str
    from_name: str = ""
    mode: SendMode = "mailbox"
    #: The agent the job asked to send as (``send_as`` and ``fallback``).
    agent: str | None = None
    #: Reply-To the decision adds (the agent, in fallback mode); the job's own wins.
    reply_to: tuple[Address, ...] = ()
    #: A note for the result: how it was sent when that differs from what was asked.
    detail: str | None = None

    @property
    def graph_from(self) -> str | None:
        """The address for Graph's ``from`` property, or ``None`` to send as the mailbox."""
        return self.from_address if self.mode == "send_as" else None


class SendRejected(PermanentError):
    """A job that must not be sent as it is; it is answered ``rejected`` and dead-lettered."""

    code = "rejected"


@dataclass(frozen=True)
class Rejection:
    """Why a job is not sent. ``message`` says what is wrong and how to fix it."""

    code: str
    message: str

    def error(self) -> SendRejected:
        return SendRejected(
            self.message,
            code=self.code,
            # The job log keeps the first answer of a job id: a corrected job needs a new one.
            hint="fix the job or the configuration as described, then publish it under a new "
            "job_id",
        )


def send_as_hint(agent: str, mailbox: str) -> str:
    return SEND_AS_DELEGATION_HINT.format(agent=agent, mailbox=mailbox)


def send_as_denied_message(agent: str, mailbox: str) -> str:
    """The ``failed`` result's message when Graph answers 403 ``ErrorSendAsDenied``."""
    return (
        f"Exchange refused to let {mailbox} send as {agent} (ErrorSendAsDenied): "
        f'{send_as_hint(agent, mailbox)}; or set send_as_fallback = "mailbox" for {mailbox} '
        "to send such mail from the mailbox with Reply-To the agent"
    )


def decide_sender(job: OutboundEmail, mailbox: MailboxConfig) -> SendDecision | Rejection:
    """Send as the mailbox, as an allowed agent, or reject (``send_as_not_allowed``)."""
    asked = (job.from_address or "").strip()
    if not asked or asked.lower() == mailbox.address:
        return SendDecision(mailbox.address, mailbox.address, job.from_name)
    if asked.lower() in mailbox.send_as:  # send_as is lower-cased by the settings
        return SendDecision(mailbox.address, asked, job.from_name, mode="send_as", agent=asked)
    return Rejection(
        "send_as_not_allowed",
        f"{asked} may not send through {mailbox.address}: to allow it, add {asked.lower()!r} "
        f"to send_as of the [[mailboxes]] entry for {mailbox.address} in the mailpipe config "
        f"AND {send_as_hint(asked.lower(), mailbox.address)}",
    )


def fallback_decision(
    decision: SendDecision, mailbox: MailboxConfig, *, desk_name: str | None = None
) -> SendDecision | None:
    """After ``ErrorSendAsDenied``: the mailbox-sent variant, or ``None`` when not configured.

    From is the mailbox with the display name "<agent> via <desk>", and Reply-To is the
    agent, so answers still reach them.
    """
    if decision.mode != "send_as" or decision.agent is None:
        return None
    if mailbox.send_as_fallback != "mailbox":
        return None
    agent_label = decision.from_name or decision.agent
    desk = desk_name or mailbox.address
    return SendDecision(
        mailbox=mailbox.address,
        from_address=mailbox.address,
        from_name=f"{agent_label} via {desk}",
        mode="fallback",
        agent=decision.agent,
        reply_to=(Address(address=decision.agent, name=decision.from_name),),
        detail=(
            f"Exchange refused Send As for {decision.agent} (ErrorSendAsDenied); sent from "
            f'{mailbox.address} with Reply-To {decision.agent} (send_as_fallback = "mailbox")'
        ),
    )


def validate_job(
    job: OutboundEmail,
    mailbox: MailboxConfig | None,
    *,
    limits_of: LimitsOf,
    max_bytes: int | None = None,
) -> Rejection | None:
    """Checks the contract cannot make alone; ``None`` when the job may be sent.

    The contract already rejects CR/LF in headers, non-X- extra headers, malformed
    addresses and its size limits; those are not repeated here. Sizes are checked against
    the mailbox's provider; ``max_bytes`` (None: the provider's largest message) may be less.
    """
    if mailbox is None or mailbox.address != job.mailbox.lower():
        return Rejection(
            "unknown_mailbox",
            f"mailbox {job.mailbox} is not configured for sending: add a [[mailboxes]] entry "
            "for it to the mailpipe config, or publish the job for a configured mailbox",
        )
    return (
        _check_recipients(job, mailbox)
        or _check_addresses(job)
        or _check_inline_ids(job)
        or _check_size(job, limits_of(mailbox), max_bytes)
    )


def _check_recipients(job: OutboundEmail, mailbox: MailboxConfig) -> Rejection | None:
    if not unique_recipients(job, exclude=(mailbox.address,)):
        return Rejection(
            "no_recipients",
            f"the job's only recipient is the service mailbox {mailbox.address} itself "
            "(mail to it would come back as a new ticket): add a real recipient",
        )
    return None


def _check_addresses(job: OutboundEmail) -> Rejection | None:
    every = [*job.to, *job.cc, *job.bcc, *job.reply_to]
    addresses = [a.address for a in every] + [job.from_address or job.mailbox]
    for address in addresses:
        if ascii_address(address) is None:
            return Rejection(
                "address_not_supported",
                f"{address!r} cannot be sent: a non-ASCII local part needs SMTPUTF8, which "
                "Graph's MIME send does not offer (an international domain part is fine)",
            )
    return None


#: One Content-ID as mail clients write them (``logo``, ``image001.png@01D9E8A1``): RFC 5322
#: atext, dots and ``@``, with or without its angle brackets. Anything else would be written
#: as something else than given, or not be found by the ``cid:`` URL that refers to it.
_CONTENT_ID = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.@-]{1,250}")


def _check_inline_ids(job: OutboundEmail) -> Rejection | None:
    seen: set[str] = set()
    for att in job.attachments:
        if att.content_id is None:
            continue
        cid = content_id_of(att.content_id)
        if cid is None:
            return Rejection(
                "content_id_not_allowed",
                f"attachment {att.name!r}: content_id {att.content_id!r} is not one id: use "
                "letters, digits and . @ - _ only (e.g. logo@desk), with or without < >, as "
                "the HTML refers to it (cid:logo@desk)",
            )
        if cid.lower() in seen:
            return Rejection(
                "duplicate_content_id",
                f"two attachments share content_id {att.content_id!r}: give each inline "
                "image its own content_id, as referenced by cid: in the HTML",
            )
        seen.add(cid.lower())
    return None


def content_id_of(value: str) -> str | None:
    """The id inside ``value`` (``<logo@desk>`` or ``logo@desk``); ``None`` when it is not one."""
    text = value.strip()
    if text.startswith("<") != text.endswith(">"):
        return None
    inner = text[1:-1] if text.startswith("<") else text
    return inner if _CONTENT_ID.fullmatch(inner) else None


def _check_size(job: OutboundEmail, limits: SendLimits, max_bytes: int | None) -> Rejection | None:
    body = estimate_body_cost(job.text, job.html)
    if body > limits.message_in_one_request:
        return Rejection(
            "body_too_large",
            f"the text and HTML bodies take about {body} bytes as MIME, over the "
            f"{limits.message_in_one_request} bytes a Graph request can carry: shorten the "
            "body or move content into an attachment",
        )
    if max_bytes is None:
        max_bytes = limits.largest_message
    total = estimate_message_size(job)
    if total > max_bytes:
        return Rejection(
            "message_too_large",
            f"the message would be about {total} bytes once encoded, over the mailbox's limit "
            f"of {max_bytes}: send large files as links, or raise the mailbox's MaxSendSize "
            "in Exchange and the sender's size limit",
        )
    return None
