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
from email import _header_value_parser as hvp
from email import policy as email_policy
from email.errors import MessageError
from email.headerregistry import Address as MimeAddress
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
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
from services.sender.domain._mime_body import write_body
from services.sender.domain.addresses import Recipients, ascii_address, unique_recipients
from services.sender.domain.attachments import AttachmentBytes
from services.sender.domain.mime_check import (
    UNSAFE_HEADERS_CODE,
    Intended,
    UnsafeHeaders,
    mime_problem,
)
from services.sender.domain.policy import Rejection, SendDecision
from services.sender.domain.thread import ThreadContext, thread_headers

__all__ = [
    "AttachmentBytes",
    "BuiltMessage",
    "ThreadContext",
    "UnsafeHeaders",
    "build_mime",
    "find_record_token",
    "header_rejection",
    "is_our_message_id",
    "record_token",
]

_MAX_LINE = 998
_WSP_RUN = re.compile(r"([ \t]+)")


def _literal_tokens(value: str) -> hvp.UnstructuredTokenList:
    """``value`` as words and white space, nothing decoded (non-ASCII words are still encoded
    when the header is folded)."""
    tokens = hvp.UnstructuredTokenList()
    for piece in _WSP_RUN.split(value):
        if piece:
            kind = hvp.WhiteSpaceTerminal if piece.isspace() else hvp.ValueTerminal
            tokens.append(kind(piece, "fws" if piece.isspace() else "vtext"))
    return tokens


class _PlainFoldHeader(UnstructuredHeader, BaseHeader):
    """Folds ASCII values at spaces only.

    The default folder turns any word longer than a line (a long Exchange Message-ID in
    References, a token in an X- header) into RFC 2047 encoded words, which breaks
    threading: msg-id lists must stay literal.

    It also never DECODES: the email package's own parser would turn an RFC 2047 encoded word
    in a value (``=?utf-8?q?a=0D=0ABcc:…?=``, say in a customer's Message-ID that we copy into
    References) into a real line break. The value is taken as the literal text it is.
    """

    @staticmethod
    def value_parser(value: str, /) -> hvp.UnstructuredTokenList:
        return _literal_tokens(value)

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


class _PlainSubject(_PlainFoldHeader):
    max_count = 1


_REGISTRY = HeaderRegistry(default_class=_PlainFoldHeader)
_REGISTRY.map_to_type("subject", _PlainSubject)
# 7bit: non-ASCII bodies go as quoted-printable or base64, safe through any relay.
_POLICY = email_policy.SMTP.clone(cte_type="7bit", header_factory=_REGISTRY)


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

    The bytes are parsed back before they are returned: a header that would not read back
    exactly as given, a header the job did not ask for, or a line over 998 octets raises
    :class:`UnsafeHeaders` (permanent), whatever the email package made of the values.
    """
    msg = EmailMessage(policy=_POLICY)
    intended = Intended()
    message_id = make_message_id(decision.mailbox, job.job_id, message_id_domain)
    recipients = unique_recipients(job, exclude=(decision.mailbox,))
    subject = _subject(job, record_token)
    try:
        _address_headers(msg, intended, decision, recipients, job.reply_to or decision.reply_to)
        _put(msg, intended, "Subject", subject)
        _put(msg, intended, "Date", format_datetime((now or datetime.now(UTC)).astimezone(UTC)))
        _put(msg, intended, "Message-ID", message_id)
        _threading_headers(msg, intended, job, thread, message_id)
        _marker_headers(msg, intended, job)
        write_body(msg, intended, job, attachments)
        mime = msg.as_bytes()
    except (ValueError, MessageError) as exc:  # the email package's header defects included
        raise UnsafeHeaders(f"the message cannot be written: {exc}") from None
    problem = mime_problem(mime, intended)
    if problem is not None:
        raise UnsafeHeaders(problem)
    return BuiltMessage(mime, message_id, subject, recipients)


def _subject(job: OutboundEmail, record_token: str | None) -> str:
    """The job's subject, with the record token when the job has a record and a format."""
    if job.record_id is not None and record_token is not None:
        return apply_record_token(job.subject, job.record_id, record_token)
    return job.subject


def _threading_headers(
    msg: EmailMessage,
    intended: Intended,
    job: OutboundEmail,
    thread: ThreadContext | None,
    message_id: str,
) -> None:
    """In-Reply-To and References, as :func:`thread_headers` works them out."""
    threading = thread_headers(job, thread, own_message_id=message_id)
    if threading.in_reply_to:
        _put(msg, intended, "In-Reply-To", threading.in_reply_to)
    if threading.references:
        _put(msg, intended, "References", " ".join(threading.references))


def _put(msg: EmailMessage, intended: Intended, name: str, value: Any) -> None:
    """Set a header and note what it must read back as."""
    msg[name] = value
    if isinstance(value, list):
        value = [(a.display_name, a.addr_spec) for a in value]
    intended.headers.append((name.lower(), value))


def _mime_address(address: str, name: str = "") -> MimeAddress:
    spec = ascii_address(address)
    if spec is None:
        raise ValueError(f"{address!r} cannot be written as an ASCII address")
    return MimeAddress(display_name=name, addr_spec=spec)


def _address_headers(
    msg: EmailMessage,
    intended: Intended,
    decision: SendDecision,
    recipients: Recipients,
    reply_to: Sequence[Address],
) -> None:
    _put(msg, intended, "From", [_mime_address(decision.from_address, decision.from_name)])
    for header, group in (
        ("To", recipients.to),
        ("Cc", recipients.cc),
        ("Bcc", recipients.bcc),
        ("Reply-To", tuple(reply_to)),
    ):
        if group:
            _put(msg, intended, header, [_mime_address(a.address, a.name) for a in group])


def _marker_headers(msg: EmailMessage, intended: Intended, job: OutboundEmail) -> None:
    """Loop and tracking markers, then the job's own X- headers (which never override)."""
    if job.auto_submitted != "no":
        _put(msg, intended, "Auto-Submitted", job.auto_submitted)
        # Keeps Exchange's out-of-office and other automatic answers from replying to it.
        _put(msg, intended, "X-Auto-Response-Suppress", "All")
    _put(msg, intended, "X-Mailpipe-Job-Id", job.job_id)
    if job.record_id is not None:
        _put(msg, intended, "X-Mailpipe-Record-Id", str(job.record_id))
    for name, value in job.headers.items():
        if msg[name] is None:
            _put(msg, intended, name, value)


def header_rejection(
    job: OutboundEmail, decision: SendDecision, *, message_id_domain: str, record_token: str | None
) -> Rejection | None:
    """``header_not_writable`` when the job's headers cannot be written to read back as given
    (a trial build without attachment bytes), so that the job is answered ``rejected`` at once."""
    trial = [
        AttachmentBytes(a.name, b"", a.content_type, a.is_inline, a.content_id)
        for a in job.attachments
    ]
    try:
        build_mime(
            job,
            decision,
            message_id_domain=message_id_domain,
            attachments=trial,
            thread=None,
            record_token=record_token,
        )
    except UnsafeHeaders as exc:
        return Rejection(
            UNSAFE_HEADERS_CODE,
            f"{exc.message}: send header text as plain text (no =?…?= encoded words), and keep "
            "display names and file names short enough to fold",
        )
    return None
