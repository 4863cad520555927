"""Which Graph path a message takes, by size.

Graph caps a request near 4 MB (we count 4,000,000 bytes, the smaller reading of "4 MB").
A MIME sendMail body is the message base64-encoded, 4 bytes for every 3, so the raw MIME
may be at most 3,000,000 bytes; :data:`MIME_SEND_LIMIT_BYTES` keeps a margin below that
(2,900,000 raw → 3,866,668 on the wire). Inside the MIME an attachment is itself base64 in
76-character lines (78 bytes with CRLF per 57 raw bytes, x1.37), so through sendMail an
attachment costs x1.82 on the wire: about 1.5 MB of files fit in one MIME send.

Anything bigger becomes a draft: the draft is created from MIME holding the bodies and the
attachments that fit, the others are added one by one — up to
:data:`ATTACHMENT_POST_LIMIT_BYTES` as one JSON POST (base64 again, the same arithmetic),
larger ones through an upload session (3 to 150 MB, chunks ≤ 4 MB) — and the draft is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from libs.common.contracts import OutboundEmail
from libs.common.errors import PermanentError
from services.sender.domain.attachments import AttachmentBytes

GRAPH_REQUEST_LIMIT_BYTES = 4_000_000
#: Largest raw MIME sent in one sendMail (base64 of it stays below the request cap).
MIME_SEND_LIMIT_BYTES = 2_900_000
#: Largest attachment added to a draft as one JSON POST; larger ones use an upload session.
ATTACHMENT_POST_LIMIT_BYTES = 2_900_000
#: Exchange Online's largest message (encoded); a mailbox's MaxSendSize is often 35 MB.
DEFAULT_MAX_MESSAGE_BYTES = 150 * 1024 * 1024
#: Headers of a part (Content-Type, -Disposition, -ID, boundary) and of the message.
PART_OVERHEAD_BYTES = 400
MESSAGE_OVERHEAD_BYTES = 4000

SendPath = Literal["mime", "upload_session"]


class MessageTooLarge(PermanentError):
    """Even without attachments the message is over what a Graph request can carry."""

    code = "body_too_large"


def mime_cost(raw_size: int) -> int:
    """Bytes a part of ``raw_size`` takes inside MIME: base64, 57 bytes per 78-byte line."""
    lines = -(-raw_size // 57)
    return lines * 78 + PART_OVERHEAD_BYTES


def estimate_body_cost(text: str | None, html: str | None) -> int:
    """Upper bound of the bodies' size in MIME (the builder picks qp or base64, the shorter)."""
    return sum(mime_cost(len(b.encode("utf-8"))) for b in (text, html) if b is not None)


def estimate_message_size(job: OutboundEmail) -> int:
    """The encoded size of the whole message, as Exchange's size limits count it."""
    recipients = len(job.to) + len(job.cc) + len(job.bcc) + len(job.reply_to)
    headers = MESSAGE_OVERHEAD_BYTES + 100 * recipients + 100 * len(job.headers)
    files = sum(mime_cost(a.size) for a in job.attachments)
    return headers + estimate_body_cost(job.text, job.html) + files


def choose_send_path(built_size: int, attachments: Sequence[AttachmentBytes]) -> SendPath:
    """``mime`` when the built MIME fits one sendMail, else ``upload_session`` (draft path).

    Raises :class:`MessageTooLarge` when moving every attachment out would still not fit.
    """
    if built_size <= MIME_SEND_LIMIT_BYTES:
        return "mime"
    movable = sum(mime_cost(a.size) for a in attachments)
    if built_size - movable > MIME_SEND_LIMIT_BYTES:
        raise MessageTooLarge(
            f"the message is {built_size} bytes of MIME without room to move attachments "
            f"out; Graph takes at most {MIME_SEND_LIMIT_BYTES} in one request",
            hint="shorten the body or move content into an attachment",
        )
    return "upload_session"


@dataclass(frozen=True)
class DraftPlan:
    """Indices into the attachments: built into the draft's MIME, POSTed, or uploaded."""

    in_mime: tuple[int, ...] = ()
    posted: tuple[int, ...] = ()
    uploaded: tuple[int, ...] = ()


def plan_draft(base_size: int, attachments: Sequence[AttachmentBytes]) -> DraftPlan:
    """Split attachments for the draft path; ``base_size`` is the MIME without any of them.

    The smallest attachments fill the draft's MIME first (fewest requests); of the rest,
    those up to :data:`ATTACHMENT_POST_LIMIT_BYTES` are POSTed, larger ones uploaded.
    """
    budget = MIME_SEND_LIMIT_BYTES - base_size
    in_mime: list[int] = []
    posted: list[int] = []
    uploaded: list[int] = []
    for i in sorted(range(len(attachments)), key=lambda i: attachments[i].size):
        cost = mime_cost(attachments[i].size)
        if cost <= budget:
            budget -= cost
            in_mime.append(i)
        elif attachments[i].size <= ATTACHMENT_POST_LIMIT_BYTES:
            posted.append(i)
        else:
            uploaded.append(i)
    return DraftPlan(tuple(sorted(in_mime)), tuple(sorted(posted)), tuple(sorted(uploaded)))
