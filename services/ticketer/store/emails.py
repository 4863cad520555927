"""Writes that turn one inbound email into exactly one outcome, even under races.

Every write keyed by an email (mailbox + Graph id) is ONE transaction that stores the record
or message AND the ``processed_log`` row. Before writing, the transaction reads the log: an email
already handled returns the stored outcome (``fresh=False``). Two ticketers handling the same
email at once both pass that read; the unique constraints let only one commit, and the loser's
``IntegrityError`` sends it round again, where it reads the winner's outcome.

An email whose Message-ID is already stored under another Graph id is either a copy of the same
mail (same sender, subject and body), logged as ``ignored`` with reason ``duplicate`` and the
existing record's id, or another mail that reuses the id: stored like any other (created or
appended as its threading says) but without that Message-ID, flagged ``message_id_reused`` in
its log row, so that its content is never lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import insert, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from libs.common.db import RACE_ROUNDS, StoreBase, rows
from libs.common.db.engine import describe
from libs.common.db.errors import StoreError
from libs.common.db.schema import quarantine, records
from services.ticketer.store import _create, _writes
from services.ticketer.store.models import (
    Decided,
    MessageRef,
    NewMessage,
    Party,
    ProcessedRow,
    RecordSummary,
    Status,
    WriteResult,
)
from services.ticketer.store.prefetch import PROCESSED

Work = Callable[[Connection, datetime], ProcessedRow]


class EmailWrites(StoreBase):
    def create_record_with_message(
        self,
        msg: NewMessage,
        *,
        subject: str | None = None,
        requester: Party | None = None,
        decided: Decided | None = None,
        thread_root: str | None = None,
    ) -> WriteResult:
        """A new record holding ``msg``; outcome ``created``, stored with ``decided`` (the
        decision's change and acknowledgement intent) and ``thread_root`` (the root of the
        thread ``msg`` answers). Idempotent per email."""
        message_id = _writes.inbound(msg)
        made: list[RecordSummary] = []
        absent = self._absent()

        def work(conn: Connection, now: datetime) -> ProcessedRow:
            dup, stored, flag = _writes.duplicate(conn, msg, now, absent)
            if dup is not None:
                return dup
            logged = _writes.log_row(
                msg.mailbox, message_id, msg, "created", None, flag, now, decided
            )
            made_by = _writes.Opening(subject, requester, thread_root)
            record, row = _create.create(conn, stored, made_by, logged, absent)
            made.append(record)
            return row

        result = self._once(msg.mailbox, message_id, work)
        # The record as written, for its event: no read back. ``created`` means the last
        # round ran ``work`` to its end (a round that lost a race was rolled back).
        if result.created:
            return replace(result, record=made[-1])
        return result

    def append_message(
        self,
        record_id: int,
        msg: NewMessage,
        *,
        reopen: bool = True,
        decided: Decided | None = None,
    ) -> WriteResult:
        """Add ``msg`` to a record (reopening it unless ``reopen`` is false); ``appended``,
        stored with ``decided``.

        Raises :class:`RecordNotFound` when the record is gone: the caller starts a new one.
        """
        message_id = _writes.inbound(msg)
        absent = self._absent()

        def work(conn: Connection, now: datetime) -> ProcessedRow:
            dup, stored, flag = _writes.duplicate(conn, msg, now, absent)
            if dup is not None:
                return dup
            logged = _writes.log_row(
                msg.mailbox, message_id, msg, "appended", record_id, flag, now, decided
            )
            return _create.append(conn, record_id, stored, reopen, logged, absent)

        return self._once(msg.mailbox, message_id, work)

    def record_ignored(
        self,
        mailbox: str,
        message_id: str,
        reason: str,
        *,
        provider: str,
        folder: str = "inbox",
        internet_message_id: str | None = None,
        record_id: int | None = None,
    ) -> WriteResult:
        """Log that an email makes no record (auto-reply, loop, ignored sender…)."""

        def work(conn: Connection, now: datetime) -> ProcessedRow:
            where = _writes.Where(provider, folder, internet_message_id)
            return _writes.log(conn, mailbox, message_id, where, "ignored", record_id, reason, now)

        return self._once(mailbox, message_id, work)

    def quarantine_email(
        self,
        mailbox: str,
        message_id: str,
        reason: str,
        *,
        detail: str = "",
        attempts: int = 0,
        provider: str,
        folder: str = "inbox",
        internet_message_id: str | None = None,
        subject: str = "",
    ) -> WriteResult:
        """Give up on an email: list it in quarantine and log outcome ``quarantined``."""

        def work(conn: Connection, now: datetime) -> ProcessedRow:
            conn.execute(
                insert(quarantine).values(
                    mailbox=rows.norm_address(mailbox),
                    provider=provider,
                    message_id=message_id,
                    folder=folder,
                    internet_message_id=rows.norm_mid(internet_message_id),
                    subject=subject,
                    reason=reason[:200],
                    detail=detail,
                    attempts=attempts,
                    created_at=now,
                )
            )
            where = _writes.Where(provider, folder, internet_message_id)
            return _writes.log(conn, mailbox, message_id, where, "quarantined", None, reason, now)

        return self._once(mailbox, message_id, work)

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
                    absent = self._absent()
                    existing = _writes.by_mid(conn, msg.mailbox, msg.internet_message_id, absent)
                    if existing is not None:
                        return existing, False
                    now = self._clock()
                    _writes.touch_record(conn, record_id, reopen=False, now=now)
                    _writes.insert_message(conn, record_id, msg, now, absent)
                    stored = _writes.by_mid(conn, msg.mailbox, msg.internet_message_id)
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
                raise _writes.gone(record_id)

    def _once(self, mailbox: str, message_id: str, work: Work) -> WriteResult:
        mailbox = rows.norm_address(mailbox)
        absent = self._absent()
        # Inside a unit that read this email's log row absent, no need to read it again.
        known_new = absent is not None and (PROCESSED, mailbox, message_id) in absent
        last: IntegrityError | None = None
        for _ in range(RACE_ROUNDS):
            try:
                with self._write() as conn:
                    done = None if known_new else _writes.processed(conn, mailbox, message_id)
                    if done is not None:
                        return WriteResult(done, fresh=False)
                    row = work(conn, self._clock())
                    if absent is not None:  # logged now: a second copy in the unit must look
                        absent.wrote(PROCESSED, mailbox, message_id)
                    return WriteResult(row, fresh=True)
            except IntegrityError as exc:
                # Lost a race to another writer of the same email: the next round reads its result.
                last = exc
        raise _race_error(last)


def _race_error(last: IntegrityError | None) -> StoreError:
    # Not a race after all (a CHECK constraint, say): say which, without the SQL parameters.
    why = describe(last) if last is not None else "unknown"
    return StoreError(
        f"the write kept violating a database constraint ({why})",
        hint="a bug or a hand-edited database: report it with this message",
    )
