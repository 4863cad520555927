"""The SQL of the email writes: each helper runs inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from libs.common.db import Absent, rows
from libs.common.db.schema_changes import CUSTOMER_REPLY
from libs.common.db.storable import storable
from services.ticketer.store import _rows, _sql
from services.ticketer.store.errors import RecordNotFound
from services.ticketer.store.models import (
    Decided,
    MessageRef,
    NewMessage,
    Outcome,
    Party,
    ProcessedRow,
    RecordSummary,
)
from services.ticketer.store.prefetch import ANSWERED, CONVERSATION, MID, ROOT


class Where:
    """The fields of the log row that come from the email itself."""

    def __init__(self, provider: str, folder: str, internet_message_id: str | None) -> None:
        self.provider: str | None = provider
        self.folder = folder
        self.internet_message_id = internet_message_id


def inbound(msg: NewMessage) -> str:
    if msg.provider is None or msg.message_id is None or msg.direction != "in":
        raise ValueError("an inbound message with its provider and message_id is needed here")
    return msg.message_id


def processed(conn: Connection, mailbox: str, message_id: str) -> ProcessedRow | None:
    row = conn.execute(_sql.PROCESSED, {"b_mailbox": mailbox, "b_message_id": message_id}).first()
    return _rows.processed_row(row) if row is not None else None


def by_mid(
    conn: Connection, mailbox: str, mid: str | None, absent: Absent | None = None
) -> MessageRef | None:
    """``absent``: the unit's memory of keys read absent (none asked again)."""
    mid = rows.norm_mid(mid)
    if mid is None:
        return None
    mailbox = rows.norm_address(mailbox)
    if absent is not None and (MID, mailbox, mid) in absent:
        return None
    params = {"b_mailbox": mailbox, "b_mid": mid}
    row = conn.execute(_sql.MESSAGE_BY_MID, params).first()
    return _rows.message_ref(row) if row is not None else None


#: The flag (``processed_log.reason``) of a mail stored without its Message-ID because another
#: mail with other content already holds that id.
REUSED_MESSAGE_ID = "message_id_reused"


def duplicate(
    conn: Connection, msg: NewMessage, now: datetime, absent: Absent | None = None
) -> tuple[ProcessedRow | None, NewMessage, str | None]:
    """A copy of a mail already stored (same Message-ID, other Graph id, same content) is
    logged ``ignored``/``duplicate``, not stored: ``(row, msg, None)``.

    A mail that only reuses a stored Message-ID (another sender, subject or body: a broken
    client, a careless script, a spoof) is not a copy and must not be lost: it is stored
    without that id, under the flag :data:`REUSED_MESSAGE_ID`: ``(None, msg', flag)``.
    Otherwise ``(None, msg, None)``.
    """
    mid = rows.norm_mid(msg.internet_message_id)
    mailbox = rows.norm_address(msg.mailbox)
    if mid is None or (absent is not None and (MID, mailbox, mid) in absent):
        return None, msg, None
    params = {"b_mailbox": mailbox, "b_mid": mid}
    existing = conn.execute(_sql.MESSAGE_BY_MID, params).first()
    if existing is None:
        return None, msg, None
    if not _same_content(rows.mapping(existing), msg):
        existing = _by_fingerprint(conn, msg)  # this other mail may itself come twice
        if existing is None:
            return None, replace(msg, internet_message_id=None), REUSED_MESSAGE_ID
    assert msg.message_id is not None
    record_id = int(existing.record_id)
    row = log(conn, msg.mailbox, msg.message_id, msg, "ignored", record_id, "duplicate", now)
    return row, msg, None


def _by_fingerprint(conn: Connection, msg: NewMessage) -> Any:
    """A stored message of the mailbox with ``msg``'s fingerprint (a copy of a mail that was
    stored without its reused Message-ID), or ``None``."""
    if msg.content_sha256 is None:
        return None
    params = {"b_mailbox": rows.norm_address(msg.mailbox), "b_sha": msg.content_sha256}
    return conn.execute(_sql.MESSAGE_BY_FINGERPRINT, params).first()


def _same_content(stored: Any, msg: NewMessage) -> bool:
    """The same mail: the fingerprints of what each said as received agree. Rows stored
    before fingerprints existed compare sender, subject and bodies as stored."""
    if stored["content_sha256"] is not None and msg.content_sha256 is not None:
        return bool(stored["content_sha256"] == msg.content_sha256)
    sender = rows.norm_address(msg.from_.address) if msg.from_ else None
    return (
        stored["from_address"] == sender
        and stored["subject"] == storable(msg.subject)
        and stored["body_text"] == _stored(msg.body_text)
        and stored["body_html"] == _stored(msg.body_html)
    )


def _stored(value: str | None) -> str | None:
    return storable(value) if value is not None else None


@dataclass(frozen=True)
class Opening:
    """What a new record is given besides its first message: the subject (``None``: the
    message's), the requester (``None``: the sender) and the root of the thread it answers."""

    subject: str | None = None
    requester: Party | None = None
    thread_root: str | None = None


def record_values(msg: NewMessage, opening: Opening, now: datetime) -> dict[str, Any]:
    requester = opening.requester or msg.from_
    return {
        "mailbox": rows.norm_address(msg.mailbox),
        "subject": msg.subject if opening.subject is None else opening.subject,
        "requester_address": rows.norm_address(requester.address) if requester else None,
        "requester_name": requester.name if requester else "",
        "thread_root": rows.norm_mid(opening.thread_root),
        "status": "open",
        "message_count": 1,  # the message inserted next, in the same transaction
        "created_at": now,
        "updated_at": now,
    }


def insert_record(conn: Connection, values: dict[str, Any]) -> RecordSummary:
    """The new record (:func:`record_values`), as :func:`_rows.record_summary` would read it
    back."""
    record_id = _sql.new_id(_sql.INSERT_RECORD, conn, values)
    return _rows.record_summary_of({"id": record_id, **values})


def record_written(values: dict[str, Any], absent: Absent | None) -> None:
    """The unit no longer takes the new record's thread root for absent."""
    if absent is not None:
        absent.wrote(ROOT, values["mailbox"], values["thread_root"])


def touch_record(conn: Connection, record_id: int, *, reopen: bool, now: datetime) -> None:
    """Count one more message; on PostgreSQL the row lock also orders concurrent appends."""
    # A reply from the requester needs attention again, whether closed or pending: reopen.
    statement = _sql.TOUCH_REOPEN if reopen else _sql.TOUCH
    if statement.rowcount(conn, {"b_id": record_id, "b_now": now}) == 0:
        raise gone(record_id)


def reopened(conn: Connection, record_id: int, was: str, now: datetime) -> None:
    """The history row of a customer reply reopening a record that was ``was``."""
    row = {"record_id": record_id, "changed_at": now, "kind": "status", "old_value": was}
    # Published: the RecordEvent of the reply itself says it (its status ``open``).
    row.update(new_value="open", changed_by=CUSTOMER_REPLY, user_id=None, announced_at=now)
    _sql.INSERT_CHANGE.rowcount(conn, row)


def insert_message(
    conn: Connection, record_id: int, msg: NewMessage, now: datetime, absent: Absent | None = None
) -> int:
    values = _rows.message_values(msg, record_id, now)
    row_id = _sql.new_id(_sql.INSERT_MESSAGE, conn, values)
    message_written(conn, record_id, row_id, msg, absent)
    return row_id


def message_written(
    conn: Connection, record_id: int, row_id: int, msg: NewMessage, absent: Absent | None
) -> None:
    """What follows a message's insert: its attachments and delivery failures; the unit
    no longer takes its Message-ID and conversation for absent."""
    if absent is not None:  # held now: later lookups in the unit must ask the database
        mailbox = rows.norm_address(msg.mailbox)
        absent.wrote(MID, mailbox, rows.norm_mid(msg.internet_message_id))
        absent.wrote(CONVERSATION, mailbox, msg.conversation_id)
        absent.wrote(ANSWERED, mailbox, rows.norm_mid(msg.in_reply_to))
    if msg.attachments:  # one executemany on the driver: the insert is not built per row
        _sql.INSERT_ATTACHMENT.many(
            conn, [_rows.attachment_values(a, row_id) for a in msg.attachments]
        )
    if msg.delivery_failures:
        _sql.INSERT_FAILURE.many(
            conn, [_rows.failure_values(d, record_id, row_id) for d in msg.delivery_failures]
        )


def log(
    conn: Connection,
    mailbox: str,
    message_id: str,
    where: NewMessage | Where,
    outcome: Outcome,
    record_id: int | None,
    reason: str | None,
    now: datetime,
    decided: Decided | None = None,
) -> ProcessedRow:
    """The email's log row; ``decided``: the decision stored with it (change, ack intent)."""
    row = log_row(mailbox, message_id, where, outcome, record_id, reason, now, decided)
    _sql.INSERT_LOG.rowcount(conn, row.__dict__)
    return row


def log_row(
    mailbox: str,
    message_id: str,
    where: NewMessage | Where,
    outcome: Outcome,
    record_id: int | None,
    reason: str | None,
    now: datetime,
    decided: Decided | None = None,
) -> ProcessedRow:
    assert where.provider is not None, "an inbound message names its provider"
    return ProcessedRow(
        mailbox=rows.norm_address(mailbox),
        provider=where.provider,
        message_id=message_id,
        folder=where.folder,
        internet_message_id=rows.norm_mid(where.internet_message_id),
        outcome=outcome,
        record_id=record_id,
        reason=reason,
        processed_at=now,
        change=decided.change if decided else None,
        ack=decided.ack if decided else None,
    )


def gone(record_id: int) -> RecordNotFound:
    return RecordNotFound(
        f"record {record_id} does not exist",
        hint="it was deleted; a reply to it starts a new record",
    )
