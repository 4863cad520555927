"""What the record page shows of replying (docs/console.md, "Replying"): the From choices of
this agent on this record's mailbox, the limits, a fresh idempotency key, and every reply of
the record with its state — a sent one beside the thread message it became, the others
(queued, sending, failed, rejected) after the thread."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request

from libs.common.db.record_views import RecordLine
from services.web.auth import Current
from services.web.domain.replying import (
    MAX_FILE_BYTES,
    MAX_FILES,
    MAX_TEXT,
    MAX_TOTAL_BYTES,
    from_choices,
    reply_subject,
)
from services.web.replies import ReplyDesk

_MIB = 1024 * 1024


def desk(request: Request) -> ReplyDesk:
    found: ReplyDesk = request.app.state.reply_desk
    return found


def choices_of(request: Request, current: Current, record: RecordLine) -> tuple[str, ...]:
    policy = request.app.state.mailboxes.sending_policy(record.mailbox)
    return from_choices(policy, current.user.personal_email)


def reply_context(
    request: Request,
    current: Current,
    record: RecordLine,
    *,
    errors: dict[str, str] | None = None,
    entered: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "reply_choices": choices_of(request, current, record),
        # What the job will carry (the sender adds the record's token), not the raw subject.
        "reply_subject": reply_subject(record.subject),
        "reply_errors": errors or {},
        "reply_entered": entered or {"key": secrets.token_hex(16), "text": "", "from": ""},
        "reply_limits": {
            "text": MAX_TEXT,
            "files": MAX_FILES,
            "file_mib": MAX_FILE_BYTES // _MIB,
            "total_mib": MAX_TOTAL_BYTES // _MIB,
        },
    }


def reply_states(request: Request, record: RecordLine) -> dict[str, Any]:
    """The console's replies of ``record`` with their states: those the thread holds, by its
    message, and those not in it yet (queued, sending, failed, rejected)."""
    replies = desk(request).replies.of_record(record.id)
    return {
        "replies_of_message": {r.message_id: r for r in replies if r.message_id is not None},
        "replies_pending": [r for r in replies if r.message_id is None],
    }
