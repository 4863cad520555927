"""The console's replies (docs/console.md, "Replying"): each reply an agent wrote, stored
before its job is published (``record_replies``, 0016), and read back with what the sender's
job log (``sent_jobs``) says became of it; plus the threading headers a reply takes from the
record's last inbound message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select

from libs.common.db._base import StoreBase
from libs.common.db.console_schema import record_replies
from libs.common.db.schema import record_messages, sent_jobs


@dataclass(frozen=True)
class NewReply:
    job_id: str
    record_id: int
    user_id: int
    username: str
    mailbox: str
    from_address: str
    subject: str
    body_text: str
    #: Each attachment's ``name`` and ``size``.
    attachments: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class ReplyView:
    """A reply and its state: ``queued`` (no answer yet), ``sending`` (in the sender's hands,
    maybe retrying), ``sent``, ``failed`` or ``rejected`` (with the sender's code and message).
    ``message_id``: the thread's message it became, once sent and stored on the record."""

    job_id: str
    username: str
    from_address: str
    subject: str
    body_text: str
    attachments: tuple[dict[str, Any], ...]
    created_at: datetime
    state: str
    error_code: str | None
    error_message: str | None
    message_id: int | None


@dataclass(frozen=True)
class Threading:
    """In-Reply-To and References of a reply to the record's last inbound message."""

    in_reply_to: str | None
    references: tuple[str, ...]


_STATES = {"sending": "sending", "retrying": "sending"}


class Replies(StoreBase):
    def add(self, reply: NewReply) -> bool:
        """Store ``reply``; ``False`` when its job id is stored already (a form sent twice)."""
        values = {**reply.__dict__, "attachments": list(reply.attachments)}
        with self._write() as conn:
            taken = conn.execute(
                select(record_replies.c.id).where(record_replies.c.job_id == reply.job_id)
            ).first()
            if taken is not None:
                return False
            conn.execute(record_replies.insert().values(**values, created_at=self._clock()))
        return True

    def of_record(self, record_id: int) -> list[ReplyView]:
        """The record's replies, oldest first, each with its state."""
        query = (
            select(
                record_replies,
                sent_jobs.c.status.label("job_status"),
                sent_jobs.c.error_code,
                sent_jobs.c.error_message,
                record_messages.c.id.label("message_id"),
            )
            .outerjoin(sent_jobs, sent_jobs.c.job_id == record_replies.c.job_id)
            .outerjoin(
                record_messages,
                and_(
                    record_messages.c.record_id == record_replies.c.record_id,
                    record_messages.c.internet_message_id == sent_jobs.c.internet_message_id,
                ),
            )
            .where(record_replies.c.record_id == record_id)
            .order_by(record_replies.c.created_at, record_replies.c.id)
        )
        with self._read() as conn:
            return [_view(row) for row in conn.execute(query).all()]

    def threading(self, record_id: int) -> Threading:
        """The last inbound message's Message-ID, and its References followed by it."""
        query = (
            select(record_messages.c.internet_message_id, record_messages.c.references)
            .where(record_messages.c.record_id == record_id, record_messages.c.direction == "in")
            .order_by(record_messages.c.received_at.desc(), record_messages.c.id.desc())
            .limit(1)
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        if row is None or not row.internet_message_id:
            return Threading(None, ())
        earlier = tuple(str(r) for r in (row.references or ()) if r != row.internet_message_id)
        return Threading(row.internet_message_id, (*earlier, row.internet_message_id))


def _view(row: Any) -> ReplyView:
    status = row.job_status
    return ReplyView(
        job_id=row.job_id,
        username=row.username,
        from_address=row.from_address,
        subject=row.subject,
        body_text=row.body_text,
        attachments=tuple(row.attachments or ()),
        created_at=row.created_at,
        state=_STATES.get(status, status) if status else "queued",
        error_code=row.error_code if status in ("failed", "rejected") else None,
        error_message=row.error_message if status in ("failed", "rejected") else None,
        message_id=row.message_id if status == "sent" else None,
    )
