"""Which path a message takes, by size, against the provider's :class:`SendLimits`.

A message whose MIME fits ``message_in_one_request`` goes out in one request. Inside the MIME
an attachment is base64 in 76-character lines (78 bytes with CRLF per 57 raw bytes, x1.37:
:func:`mime_cost`). Anything bigger becomes a draft: the draft is created from MIME holding
the bodies and the attachments that fit, the others are added one by one — up to
``attachment_in_one_request`` in one request, larger ones uploaded in parts — and the draft
is sent. The provider's numbers and how they follow from its request cap are the adapter's
(Graph's: ``libs/common/graph/_send.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from libs.common.contracts import OutboundEmail
from libs.common.errors import PermanentError
from libs.common.mail.models import SendLimits
from services.sender.domain.attachments import AttachmentBytes

#: Headers of a part (Content-Type, -Disposition, -ID, boundary) and of the message.
PART_OVERHEAD_BYTES = 400
MESSAGE_OVERHEAD_BYTES = 4000

SendPath = Literal["mime", "upload_session"]


class MessageTooLarge(PermanentError):
    """Even without attachments the message is over what one request can carry."""

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


def choose_send_path(
    built_size: int, attachments: Sequence[AttachmentBytes], limits: SendLimits
) -> SendPath:
    """``mime`` when the built MIME fits one request, else ``upload_session`` (draft path).

    Raises :class:`MessageTooLarge` when moving every attachment out would still not fit.
    """
    limit = limits.message_in_one_request
    if built_size <= limit:
        return "mime"
    movable = sum(mime_cost(a.size) for a in attachments)
    if built_size - movable > limit:
        raise MessageTooLarge(
            f"the message is {built_size} bytes of MIME without room to move attachments "
            f"out; Graph takes at most {limit} in one request",
            hint="shorten the body or move content into an attachment",
        )
    return "upload_session"


@dataclass(frozen=True)
class DraftPlan:
    """Indices into the attachments: built into the draft's MIME, POSTed, or uploaded."""

    in_mime: tuple[int, ...] = ()
    posted: tuple[int, ...] = ()
    uploaded: tuple[int, ...] = ()


def plan_draft(
    base_size: int, attachments: Sequence[AttachmentBytes], limits: SendLimits
) -> DraftPlan:
    """Split attachments for the draft path; ``base_size`` is the MIME without any of them.

    The smallest attachments fill the draft's MIME first (fewest requests); of the rest,
    those up to ``attachment_in_one_request`` are POSTed, larger ones uploaded.
    """
    budget = limits.message_in_one_request - base_size
    in_mime: list[int] = []
    posted: list[int] = []
    uploaded: list[int] = []
    for i in sorted(range(len(attachments)), key=lambda i: attachments[i].size):
        cost = mime_cost(attachments[i].size)
        if cost <= budget:
            budget -= cost
            in_mime.append(i)
        elif attachments[i].size <= limits.attachment_in_one_request:
            posted.append(i)
        else:
            uploaded.append(i)
    return DraftPlan(tuple(sorted(in_mime)), tuple(sorted(posted)), tuple(sorted(uploaded)))
