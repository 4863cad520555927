"""Hand a built message to the mailbox: one MIME send, or a draft from MIME + attachments.

The MIME is built here as often as the path needs (the builder is deterministic in all but
the Date header), so the large attachments are never base64-encoded into a MIME that cannot
be sent in one request anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from libs.common.mail import MailSender, OutgoingAttachment, SendLimits
from services.sender.domain.attachments import AttachmentBytes
from services.sender.domain.mime import BuiltMessage
from services.sender.domain.sizing import (
    SendPath,
    choose_send_path,
    mime_cost,
    plan_draft,
)

#: Builds the job's MIME with the given attachments (the rest of the job is bound).
Build = Callable[[Sequence[AttachmentBytes]], BuiltMessage]


@dataclass(frozen=True)
class Delivered:
    built: BuiltMessage
    path: SendPath
    request_id: str | None


def choose_path(
    build: Build, attachments: Sequence[AttachmentBytes], limits: SendLimits
) -> tuple[SendPath, BuiltMessage]:
    """The path and the message to send on it (the full MIME for ``mime``, the bare one
    without attachments for ``upload_session``). Raises ``MessageTooLarge``."""
    bare = build(())
    choose_send_path(bare.size, (), limits)  # even the bodies alone must fit one request
    limit = limits.message_in_one_request
    if bare.size + sum(mime_cost(a.size) for a in attachments) <= limit:
        full = build(attachments) if attachments else bare
        if full.size <= limit:
            return "mime", full
    return "upload_session", bare


def deliver(mail: MailSender, build: Build, attachments: Sequence[AttachmentBytes]) -> Delivered:
    """Send; the small attachments ride in the draft's MIME, the rest are added to it."""
    limits = mail.send_limits
    path, built = choose_path(build, attachments, limits)
    if path == "mime":
        return Delivered(built, path, mail.send_mime(built.mime).request_id)
    plan = plan_draft(built.size, attachments, limits)
    draft = build([attachments[i] for i in plan.in_mime])
    extra = [_outgoing(attachments[i]) for i in (*plan.posted, *plan.uploaded)]
    result = mail.send_mime_draft(
        draft.mime, extra, attachment_post_limit=limits.attachment_in_one_request
    )
    return Delivered(draft, path, result.request_id)


def _outgoing(att: AttachmentBytes) -> OutgoingAttachment:
    return OutgoingAttachment(
        name=att.name,
        content=att.data,
        content_type=att.content_type,
        is_inline=att.is_inline,
        content_id=att.content_id,
    )
