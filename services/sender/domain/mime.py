"""Build the RFC 5322 message of a job with the standard ``email`` package.

The MIME handed to Graph's sendMail carries every header, Bcc included: Graph takes the
recipients of a MIME send from its To, Cc and Bcc headers (and Exchange removes Bcc from
the copies it delivers). See docs/sending.md for the header list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy as email_policy
from email.headerregistry import Address as MimeAddress
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage, MIMEPart
from email.policy import Policy
from email.utils import format_datetime
from typing import Any

from libs.common.contracts import Address, OutboundEmail
from libs.common.msgid import is_our_message_id, make_message_id
from libs.common.record_token import (
    DEFAULT_TOKEN_FORMAT,
    apply_record_token,
    find_record_token,
    record_token,
)
from services.sender.domain.addresses import Recipients, ascii_address, unique_recipients
from services.sender.domain.attachments import AttachmentBytes
from services.sender.domain.policy import SendDecision
from services.sender.domain.thread import ThreadContext, thread_headers

__all__ = [
    "AttachmentBytes",
    "BuiltMessage",
    "ThreadContext",
    "build_mime",
    "find_record_token",
    "is_our_message_id",
    "record_token",
]

_TYPE_RE = re.compile(r"^([a-z0-9][a-z0-9!#$&^_.+-]*)/([a-z0-9][a-z0-9!#$&^_.+-]*)$")
_MAX_LINE = 998


class _PlainFoldHeader(UnstructuredHeader, BaseHeader):
    """Folds ASCII values at spaces only.

    The default folder turns any word longer than a line (a long Exchange Message-ID in
    References, a token in an X- header) into RFC 2047 encoded words, which breaks
    threading: msg-id lists must stay literal.
    """

    def fold(self, *, policy: Policy) -> str:
        value = str(self)
        words = value.split(" ")
        if not value.isascii() or any(len(w) + len(self.name) + 3 > _MAX_LINE for w in words):
            return super().fold(policy=policy)
        limit = policy.max_line_length or _MAX_LINE
        lines = [f"{self.name}:"]
        fresh = True  # the current line holds no word yet: never break before the first
        for word in words:
            if word and not fresh and len(lines[-1]) + 1 + len(word) > limit:
                lines.append("")
            lines[-1] += " " + word
            fresh = fresh and not word
        return policy.linesep.join(lines) + policy.linesep


# 7bit: non-ASCII bodies go as quoted-printable or base64, safe through any relay.
_POLICY = email_policy.SMTP.clone(
    cte_type="7bit", header_factory=HeaderRegistry(default_class=_PlainFoldHeader)
)


@dataclass(frozen=True)
class BuiltMessage:
    mime: bytes
    #: Our Message-ID, angle brackets included.
    message_id: str
    #: The subject as sent (with the record token).
    subject: str
    recipients: Recipients

    @property
    def size(self) -> int:
        return len(self.mime)


def build_mime(
    job: OutboundEmail,
    decision: SendDecision,
    *,
    message_id_domain: str,
    attachments: Sequence[AttachmentBytes],
    thread: ThreadContext | None,
    record_token: str | None = DEFAULT_TOKEN_FORMAT,
    now: datetime | None = None,
) -> BuiltMessage:
    """The message for ``job`` as ``decision`` says to send it.

    ``record_token`` is the subject token format (``"[#{id}]"``), or ``None`` to leave the
    subject as it is; ``attachments`` are the job's attachments with bytes resolved.
    ``validate_job`` must have passed: an address it would refuse raises ``ValueError``.
    """
    msg = EmailMessage(policy=_POLICY)
    message_id = make_message_id(decision.mailbox, job.job_id, message_id_domain)
    recipients = unique_recipients(job, exclude=(decision.mailbox,))
    subject = job.subject
    if job.record_id is not None and record_token is not None:
        subject = apply_record_token(subject, job.record_id, record_token)
    _address_headers(msg, decision, recipients, job.reply_to or decision.reply_to)
    msg["Subject"] = subject
    msg["Date"] = format_datetime((now or datetime.now(UTC)).astimezone(UTC))
    msg["Message-ID"] = message_id
    threading = thread_headers(job, thread, own_message_id=message_id)
    if threading.in_reply_to:
        msg["In-Reply-To"] = threading.in_reply_to
    if threading.references:
        msg["References"] = " ".join(threading.references)
    _marker_headers(msg, job)
    _body(msg, job, attachments)
    for part in msg.iter_parts():
        _drop_inner_mime_version(part)
    return BuiltMessage(msg.as_bytes(), message_id, subject, recipients)


def _mime_address(address: str, name: str = "") -> MimeAddress:
    spec = ascii_address(address)
    if spec is None:
        raise ValueError(f"{address!r} cannot be written as an ASCII address")
    return MimeAddress(display_name=name, addr_spec=spec)


def _address_headers(
    msg: EmailMessage,
    decision: SendDecision,
    recipients: Recipients,
    reply_to: Sequence[Address],
) -> None:
    msg["From"] = _mime_address(decision.from_address, decision.from_name)
    for header, group in (
        ("To", recipients.to),
        ("Cc", recipients.cc),
        ("Bcc", recipients.bcc),
        ("Reply-To", tuple(reply_to)),
    ):
        if group:
            msg[header] = [_mime_address(a.address, a.name) for a in group]


def _marker_headers(msg: EmailMessage, job: OutboundEmail) -> None:
    """Loop and tracking markers, then the job's own X- headers (which never override)."""
    if job.auto_submitted != "no":
        msg["Auto-Submitted"] = job.auto_submitted
        # Keeps Exchange's out-of-office and other automatic answers from replying to it.
        msg["X-Auto-Response-Suppress"] = "All"
    msg["X-Mailpipe-Job-Id"] = job.job_id
    if job.record_id is not None:
        msg["X-Mailpipe-Record-Id"] = str(job.record_id)
    for name, value in job.headers.items():
        if msg[name] is None:
            msg[name] = value


def _body(msg: EmailMessage, job: OutboundEmail, attachments: Sequence[AttachmentBytes]) -> None:
    if job.text is not None:
        msg.set_content(job.text)
        if job.html is not None:
            msg.add_alternative(job.html, subtype="html")
    else:
        msg.set_content(job.html or "", subtype="html")
    html_part = _html_part(msg) if job.html is not None else None
    for att in attachments:
        maintype, subtype = _content_type(att.content_type)
        if html_part is not None and att.is_inline and att.content_id:
            html_part.add_related(
                att.data,
                maintype,
                subtype,
                cid=f"<{att.content_id}>",
                filename=att.name,
                disposition="inline",
            )
        else:
            msg.add_attachment(att.data, maintype, subtype, filename=att.name)


def _drop_inner_mime_version(part: MIMEPart) -> None:
    """The email package repeats MIME-Version in parts it creates; only the top needs it."""
    del part["MIME-Version"]
    for sub in part.iter_parts():
        _drop_inner_mime_version(sub)


def _html_part(msg: EmailMessage) -> EmailMessage:
    if msg.get_content_type() == "multipart/alternative":
        parts: Any = msg.get_payload()
        html: EmailMessage = parts[-1]
        return html
    return msg


def _content_type(value: str) -> tuple[str, str]:
    """``(maintype, subtype)``; odd or container types travel as application/octet-stream."""
    found = _TYPE_RE.match(value.split(";", 1)[0].strip().lower())
    if not found or found.group(1) in ("multipart", "message"):
        return "application", "octet-stream"
    return found.group(1), found.group(2)
