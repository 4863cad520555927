"""Writes that turn one inbound email into exactly one outcome, even under races.

Every write keyed by an email (mailbox + Graph id) is ONE transaction that stores the record
or message AND the ``processed_log`` row. Before writing, the transaction reads the log: an email
already handled returns the stored outcome (``fresh=False``). Two ticketers handling the same
email at once both pass that read; the unique constraints let only one commit, and the loser's
``IntegrityError`` sends it round again, where it reads the winner's outcome.

An email whose Message-ID is already stored under another Graph id (a copy of the same mail)
is logged as ``ignored`` with reason ``duplicate`` and the existing record's id.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.exc import IntegrityError

from services.ticketer.store import _rows
from services.ticketer.store._base import RACE_ROUNDS, StoreBase
from services.ticketer.store.engine import describe
from services.ticketer.store.errors import RecordNotFound, StoreError
from services.ticketer.store.models import (
    MessageRef,
    NewMessage,
    Outcome,
    Party,
    ProcessedRow,
    Status,
    WriteResult,
)
from services.ticketer.store.schema import (
    delivery_failures,
    processed_log,
    quarantine,
    record_attachments,
    record_messages,
    records,
)

Work = Callable[[Connection, datetime], ProcessedRow]


class EmailWrites(StoreBase):
    def create_record_with_message(
        self, msg: NewMessage, *, subject: str | None = None, requester: Party | None = None
    ) -> WriteResult:
        """A new record holding ``msg``; outcome ``created``. Idempotent per email."""
        graph_id = _inbound(msg)

        def work(conn: Connection, now: datetime) -> ProcessedRow:
            dup = _duplicate(conn, msg, now)
            if dup is not None:
                return dup
            record_id = _insert_record(conn, msg, subject, requester, now)
            _insert_message(conn, record_id, msg, now)
            return _log(conn, msg.mailbox, graph_id, msg, "created", record_id, None, now)

        return self._once(msg.mailbox, graph_id, work)

    def append_message(
        self, record_id: int, msg: NewMessage, *, reopen: bool = True
    ) -> WriteResult:
        """Add ``msg`` to a record (reopening it unless ``reopen`` is false); ``appended``.

        Raises :class:`RecordNotFound` when the record is gone: the caller starts a new one.
        """
        graph_id = _inbound(msg)

        def work(conn: Connection, now: datetime) -> ProcessedRow:
            dup = _duplicate(conn, msg, now)
            if dup is not None:
                return dup
            _touch_record(conn, record_id, reopen=reopen, now=now)
            _insert_message(conn, record_id, msg, now)
            return _log(conn, msg.mailbox, graph_id, msg, "appended", record_id, None, now)

        return self._once(msg.mailbox, graph_id, work)

    def record_ignored(
        self,
        mailbox: str,
        graph_id: str,
        reason: str,
        *,
        folder: str = "inbox",
        internet_message_id: str | None = None,
        record_id: int | None = None,
    ) -> WriteResult:
        """Log that an email makes no record (auto-reply, loop, ignored sender…)."""

        def work(conn: Connection, now: datetime) -> ProcessedRow:
            where = _Where(folder, internet_message_id)
            return _log(conn, mailbox, graph_id, where, "ignored", record_id, reason, now)

        return self._once(mailbox, graph_id, work)

    def quarantine_email(
        self,
        mailbox: str,
        graph_id: str,
        reason: str,
        *,
        detail: str = "",
        attempts: int = 0,
        folder: str = "inbox",
        internet_message_id: str | None = None,
        subject: str = "",
    ) -> WriteResult:
        """Give up on an email: list it in quarantine and log outcome ``quarantined``."""

        def work(conn: Connection, now: datetime) -> ProcessedRow:
            conn.execute(
                insert(quarantine).values(
                    mailbox=_rows.norm_address(mailbox),
                    graph_id=graph_id,
                    folder=folder,
                    internet_message_id=_rows.norm_mid(internet_message_id),
                    subject=subject,
                    reason=reason[:200],
                    detail=detail,
                    attempts=attempts,
                    created_at=now,
                )
            )
            where = _Where(folder, internet_message_id)
            return _log(conn, mailbox, graph_id, where, "quarantined", None, reason, now)

        return self._once(mailbox, graph_id, work)

    def record_outbound(self, record_id: int, msg: NewMessage) -> tuple[MessageRef, bool]:
        """Store a message we sent on its record; idempotent on its Message-ID.

        Returns the stored message and whether this call stored it. Does not reopen the record.
        """
        if msg.direction != "out" or msg.internet_message_id is None:
            raise ValueError("record_outbound needs an outbound message with a Message-ID")
        last: IntegrityError | None = None
        for _ in range(RACE_ROUNDS):
            try:
                with self._write() as conn:
                    existing = _by_mid(conn, msg.mailbox, msg.internet_message_id)
                    if existing is not None:
                        return existing, False
                    now = self._clock()
                    _touch_record(conn, record_id, reopen=False, now=now)
                    _insert_message(conn, record_id, msg, now)
                    stored = _by_mid(conn, msg.mailbox, msg.internet_message_id)
                    assert stored is not None
                    return stored, True
            except IntegrityError as exc:
                last = exc
        raise _race_error(last)

    def set_status(self, record_id: int, status: Status) -> None:
        with self._write() as conn:
            done = conn.execute(
                update(records)
                .where(records.c.id == record_id)
                .values(status=status, updated_at=self._clock())
            )
            if done.rowcount == 0:
                raise _gone(record_id)

    def _once(self, mailbox: str, graph_id: str, work: Work) -> WriteResult:
        mailbox = _rows.norm_address(mailbox)
        last: IntegrityError | None = None
        for _ in range(RACE_ROUNDS):
            try:
                with self._write() as conn:
                    done = _processed(conn, mailbox, graph_id)
                    if done is not None:
                        return WriteResult(done, fresh=False)
                    return WriteResult(work(conn, self._clock()), fresh=True)
            except IntegrityError as exc:
                # Lost a race to another writer of the same email: the next round reads its result.
                last = exc
        raise _race_error(last)


class _Where:
    """The two fields of the log row that come from the email itself."""

    def __init__(self, folder: str, internet_message_id: str | None) -> None:
        self.folder = folder
        self.internet_message_id = internet_message_id


def _inbound(msg: NewMessage) -> str:
    if msg.graph_id is None or msg.direction != "in":
        raise ValueError("an inbound message with a graph_id is needed here")
    return msg.graph_id


def _processed(conn: Connection, mailbox: str, graph_id: str) -> ProcessedRow | None:
    row = conn.execute(
        select(processed_log).where(
            processed_log.c.mailbox == mailbox, processed_log.c.graph_id == graph_id
        )
    ).first()
    return _rows.processed_row(row) if row is not None else None


def _by_mid(conn: Connection, mailbox: str, mid: str | None) -> MessageRef | None:
    mid = _rows.norm_mid(mid)
    if mid is None:
        return None
    row = conn.execute(
        select(record_messages).where(
            record_messages.c.mailbox == _rows.norm_address(mailbox),
            record_messages.c.internet_message_id == mid,
        )
    ).first()
    return _rows.message_ref(row) if row is not None else None


def _duplicate(conn: Connection, msg: NewMessage, now: datetime) -> ProcessedRow | None:
    """A copy of a mail already stored (same Message-ID, other Graph id) is logged, not stored."""
    existing = _by_mid(conn, msg.mailbox, msg.internet_message_id)
    if existing is None:
        return None
    assert msg.graph_id is not None
    reason = "duplicate"
    return _log(conn, msg.mailbox, msg.graph_id, msg, "ignored", existing.record_id, reason, now)


def _insert_record(
    conn: Connection, msg: NewMessage, subject: str | None, requester: Party | None, now: datetime
) -> int:
    requester = requester or msg.from_
    result = conn.execute(
        insert(records).values(
            mailbox=_rows.norm_address(msg.mailbox),
            subject=msg.subject if subject is None else subject,
            requester_address=_rows.norm_address(requester.address) if requester else None,
            requester_name=requester.name if requester else "",
            status="open",
            message_count=1,  # the message inserted next, in the same transaction
            created_at=now,
            updated_at=now,
        )
    )
    return _new_id(result)


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None, "an INSERT without a generated key"
    return int(key[0])


def _touch_record(conn: Connection, record_id: int, *, reopen: bool, now: datetime) -> None:
    """Count one more message; on PostgreSQL the row lock also orders concurrent appends."""
    values: dict[str, Any] = {"message_count": records.c.message_count + 1, "updated_at": now}
    if reopen:
        # A reply from the requester needs attention again, whether closed or pending.
        values["status"] = "open"
    done = conn.execute(update(records).where(records.c.id == record_id).values(**values))
    if done.rowcount == 0:
        raise _gone(record_id)


def _insert_message(conn: Connection, record_id: int, msg: NewMessage, now: datetime) -> int:
    result = conn.execute(
        insert(record_messages).values(**_rows.message_values(msg, record_id, now))
    )
    message_id = _new_id(result)
    if msg.attachments:
        conn.execute(
            insert(record_attachments),
            [_rows.attachment_values(a, message_id) for a in msg.attachments],
        )
    if msg.delivery_failures:
        conn.execute(
            insert(delivery_failures),
            [_rows.failure_values(d, record_id, message_id) for d in msg.delivery_failures],
        )
    return message_id


def _log(
    conn: Connection,
    mailbox: str,
    graph_id: str,
    where: NewMessage | _Where,
    outcome: Outcome,
    record_id: int | None,
    reason: str | None,
    now: datetime,
) -> ProcessedRow:
    row = ProcessedRow(
        mailbox=_rows.norm_address(mailbox),
        graph_id=graph_id,
        folder=where.folder,
        internet_message_id=_rows.norm_mid(where.internet_message_id),
        outcome=outcome,
        record_id=record_id,
        reason=reason,
        processed_at=now,
    )
    conn.execute(insert(processed_log).values(**row.__dict__))
    return row


def _gone(record_id: int) -> RecordNotFound:
    return RecordNotFound(
        f"record {record_id} does not exist",
        hint="it was deleted; a reply to it starts a new record",
    )


def _race_error(last: IntegrityError | None) -> StoreError:
    # Not a race after all (a CHECK constraint, say): say which, without the SQL parameters.
    why = describe(last) if last is not None else "unknown"
    return StoreError(
        f"the write kept violating a database constraint ({why})",
        hint="a bug or a hand-edited database: report it with this message",
    )
