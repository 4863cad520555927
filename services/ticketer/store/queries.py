"""Reads: what became of an email, threading lookups, and records for the CLI."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.engine import Connection

from libs.common.db import StoreBase, held, rows
from libs.common.db.schema import (
    delivery_failures,
    record_attachments,
    record_messages,
    records,
)
from services.ticketer.store import _rows, _sql, _writes
from services.ticketer.store.models import (
    Attachment,
    DeliveryFailure,
    MessageRef,
    ProcessedRow,
    RecordDetail,
    RecordSummary,
    Status,
    StoredMessage,
)
from services.ticketer.store.prefetch import ANSWERED, CONVERSATION, MID, PROCESSED, ROOT

#: In-Reply-To plus References are bounded by the contract (200); keep the IN list bounded too.
MAX_LOOKUP_IDS = 250


class RecordQueries(StoreBase):
    def processed_outcome(self, mailbox: str, message_id: str) -> ProcessedRow | None:
        """The stored outcome of an email, so a redelivery republishes the same one."""
        mailbox = rows.norm_address(mailbox)
        absent = self._absent()
        if absent is not None and (PROCESSED, mailbox, message_id) in absent:
            return None
        with self._read() as conn:
            return _writes.processed(conn, mailbox, message_id)

    def processed_outcomes(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], ProcessedRow]:
        """The stored outcomes of many emails at once, keyed by the (mailbox, graph id) pairs
        as given; an email not handled yet is absent. One query per mailbox. Inside a unit,
        the emails not handled yet are remembered as such for the rest of it."""
        absent = self._absent()
        wanted: dict[str, list[tuple[str, str]]] = {}
        for key in keys:
            wanted.setdefault(rows.norm_address(key[0]), []).append(key)
        out: dict[tuple[str, str], ProcessedRow] = {}
        with self._read() as conn:
            for mailbox, box_keys in wanted.items():
                ids = sorted({k[1] for k in box_keys})
                params = {"b_mailbox": mailbox, "b_message_ids": ids}
                found = {
                    str(row.message_id): _rows.processed_row(row)
                    for row in conn.execute(_sql.PROCESSED_MANY, params)
                }
                out.update({key: found[key[1]] for key in box_keys if key[1] in found})
                if absent is not None:
                    absent.add(PROCESSED, mailbox, [i for i in ids if held(i) not in found])
        return out

    def find_message_by_internet_id(self, mailbox: str, mid: str) -> MessageRef | None:
        with self._read() as conn:
            return _writes.by_mid(conn, mailbox, mid, self._absent())

    def find_record_by_message_ids(self, mailbox: str, ids: Sequence[str]) -> int | None:
        """The record holding any of ``ids`` (inbound or ours), preferring earlier ids.

        Pass In-Reply-To first, then References newest first: the closest ancestor wins.
        """
        mailbox = rows.norm_address(mailbox)
        wanted = rows.norm_mids(ids)[:MAX_LOOKUP_IDS]
        absent = self._absent()
        if absent is not None:  # read absent for the whole batch: no need to ask again
            wanted = [mid for mid in wanted if (MID, mailbox, mid) not in absent]
        if not wanted:
            return None
        params = {"b_mailbox": mailbox, "b_mids": wanted}
        with self._read() as conn:
            hits = conn.execute(_sql.RECORDS_BY_MIDS, params).all()
        found = {str(mid): int(record_id) for mid, record_id in hits}
        for mid in wanted:
            if mid in found:
                return found[mid]
        return None

    def find_record_answering(self, mailbox: str, mid: str) -> int | None:
        """The record of the first stored mail whose In-Reply-To names ``mid``: a mail that
        arrives after its answer joins the record the answer started."""
        wanted = rows.norm_mid(mid)
        if wanted is None:
            return None
        mailbox = rows.norm_address(mailbox)
        absent = self._absent()
        if absent is not None and (ANSWERED, mailbox, wanted) in absent:
            return None
        params = {"b_mailbox": mailbox, "b_mid": wanted}
        with self._read() as conn:
            row = conn.execute(_sql.RECORD_ANSWERING, params).first()
        return int(row[0]) if row is not None else None

    def find_record_by_conversation(self, mailbox: str, conversation_id: str) -> int | None:
        """The record most recently given a message of this Graph conversation."""
        mailbox = rows.norm_address(mailbox)
        absent = self._absent()
        if absent is not None and (CONVERSATION, mailbox, conversation_id) in absent:
            return None
        params = {"b_mailbox": mailbox, "b_conversation": conversation_id}
        with self._read() as conn:
            row = conn.execute(_sql.RECORD_BY_CONVERSATION, params).first()
        return int(row[0]) if row is not None else None

    def find_record_by_thread_root(self, mailbox: str, root: str, requester: str) -> int | None:
        """The first record of ``requester`` created by a mail answering thread root ``root``:
        answers naming a root the mailbox never received join it."""
        wanted = rows.norm_mid(root)
        if wanted is None:
            return None
        mailbox = rows.norm_address(mailbox)
        absent = self._absent()
        if absent is not None and (ROOT, mailbox, wanted) in absent:
            return None
        params = {
            "b_mailbox": mailbox,
            "b_root": wanted,
            "b_requester": rows.norm_address(requester),
        }
        with self._read() as conn:
            row = conn.execute(_sql.RECORD_BY_ROOT, params).first()
        return int(row[0]) if row is not None else None

    def record_exists(self, record_id: int) -> bool:
        with self._read() as conn:
            row = conn.execute(select(records.c.id).where(records.c.id == record_id)).first()
        return row is not None

    def list_records(
        self,
        *,
        mailbox: str | None = None,
        status: Status | None = None,
        limit: int | None = None,
        after_id: int = 0,
    ) -> list[RecordSummary]:
        """Records in id order; page with ``after_id`` = the last id of the previous page."""
        query = select(records).where(records.c.id > after_id).order_by(records.c.id)
        if mailbox is not None:
            query = query.where(records.c.mailbox == rows.norm_address(mailbox))
        if status is not None:
            query = query.where(records.c.status == status)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            return [_rows.record_summary(r) for r in conn.execute(query)]

    def get_record(self, record_id: int) -> RecordDetail | None:
        """A record with its messages (oldest first), attachments and delivery failures."""
        with self._read() as conn:
            row = conn.execute(select(records).where(records.c.id == record_id)).first()
            if row is None:
                return None
            return RecordDetail(_rows.record_summary(row), _messages(conn, record_id))


def _messages(conn: Connection, record_id: int) -> tuple[StoredMessage, ...]:
    found = conn.execute(
        select(record_messages)
        .where(record_messages.c.record_id == record_id)
        .order_by(record_messages.c.received_at, record_messages.c.id)
    ).all()
    ids = [r.id for r in found]
    files: dict[int, list[Attachment]] = {i: [] for i in ids}
    failures: dict[int, list[DeliveryFailure]] = {i: [] for i in ids}
    if ids:
        for a in conn.execute(
            select(record_attachments)
            .where(record_attachments.c.message_id.in_(ids))
            .order_by(record_attachments.c.id)
        ):
            files[a.message_id].append(_rows.attachment(a))
        for d in conn.execute(
            select(delivery_failures)
            .where(delivery_failures.c.record_id == record_id)
            .order_by(delivery_failures.c.id)
        ):
            failures[d.message_id].append(_rows.delivery_failure(d))
    return tuple(_rows.stored_message(r, tuple(files[r.id]), tuple(failures[r.id])) for r in found)
