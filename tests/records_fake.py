"""The shared in-memory fake of the ticketer's record store (``services.ticketer.ports.Records``
and ``RequesterCache``).

Unit tests use it instead of a database; ``tests/integration/test_records_port_contract.py``
runs the same checks against it and against :class:`services.ticketer.store.RecordStore` on
SQLite and PostgreSQL, so it behaves as the store does in what the ticketer relies on. Like the
store it compares mailboxes and addresses case-insensitively and Message-IDs in their canonical
form, and stores them so. Where it deliberately does less (the contract checks none of this):

- one clock: every timestamp is :data:`NOW` (the contract gives the real store a clock fixed
  there), so an acknowledgement reservation counts whatever its ``window``;
- a :class:`MessageRef`'s ``id`` is the message's place in :attr:`FakeStore.messages`, not a
  row id; messages are kept as given (``NewMessage``), nothing of them is read back but what
  the port's look-ups answer;
- no races: :meth:`FakeStore.unit` copies the whole fake and restores it when the block raises.

The attributes are the state tests read and set directly (``records``: id → mailbox, subject,
requester, status, count; ``outbox``: job id → body, mailbox, attempts, published, status ...).
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from libs.common.msgid import canonical_message_id
from services.ticketer.domain.sentcheck import LoggedFacts
from services.ticketer.ports import Records, RequesterCache
from services.ticketer.store.errors import RecordNotFound
from services.ticketer.store.models import (
    Decided,
    MessageRef,
    NewMessage,
    OutboxRow,
    Outcome,
    Party,
    ProcessedRow,
    RecordSummary,
    Requester,
    WriteResult,
)
from services.ticketer.store.prefetch import Expected

#: The fake's one clock.
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
#: The store's flag of a mail stored without the Message-ID another mail already holds.
REUSED_MESSAGE_ID = "message_id_reused"


def norm(address: str) -> str:
    """As the store compares addresses (``libs.common.db.rows.norm_address``)."""
    return address.strip().lower()


@dataclass(frozen=True)
class _Where:
    """The fields of a log row that come from the email itself."""

    provider: str
    folder: str = "inbox"
    internet_message_id: str | None = None


def _where(msg: NewMessage) -> _Where:
    assert msg.provider is not None and msg.message_id is not None and msg.direction == "in"
    return _Where(msg.provider, msg.folder, msg.internet_message_id)


def _same_content(a: NewMessage, b: NewMessage) -> bool:
    """The store's test: the fingerprints agree, else sender, subject and bodies do."""
    if a.content_sha256 is not None and b.content_sha256 is not None:
        return a.content_sha256 == b.content_sha256
    return _said(a) == _said(b)


def _said(m: NewMessage) -> tuple[str | None, str, str | None, str | None]:
    return (norm(m.from_.address) if m.from_ else None, m.subject, m.body_text, m.body_html)


@dataclass
class FakeStore:
    """The record store's behaviour that the handler relies on, in memory."""

    records: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: list[tuple[int, NewMessage]] = field(default_factory=list)
    processed: dict[tuple[str, str], ProcessedRow] = field(default_factory=dict)
    #: Acknowledgements reserved: job id → recipient.
    acks: dict[str, str] = field(default_factory=dict)
    #: (message id, reason) of each email quarantined.
    quarantined: list[tuple[str, str]] = field(default_factory=list)
    requesters: dict[str, Requester] = field(default_factory=dict)
    outbox: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The sender's job log: job id → what it says was sent.
    sent_log: dict[str, LoggedFacts] = field(default_factory=dict)

    units: int = 0
    #: The thread keys each unit was opened with.
    locked: list[frozenset[str]] = field(default_factory=list)

    @contextmanager
    def unit(self, threads: Collection[str] = ()) -> Iterator[None]:
        """One transaction: everything written inside is undone when the block raises."""
        self.units += 1
        self.locked.append(frozenset(threads))
        saved = copy.deepcopy(self.__dict__)
        try:
            yield
        except BaseException:
            self.__dict__.update(saved)
            raise

    # -- reads -------------------------------------------------------------------------------

    def processed_outcome(self, mailbox: str, message_id: str) -> ProcessedRow | None:
        return self.processed.get((norm(mailbox), message_id))

    def processed_outcomes(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], ProcessedRow]:
        found = {key: self.processed_outcome(*key) for key in keys}
        return {key: row for key, row in found.items() if row is not None}

    def expect(self, emails: Sequence[Expected]) -> None:
        """Nothing to read ahead in memory."""

    def find_message_by_internet_id(self, mailbox: str, mid: str) -> MessageRef | None:
        wanted = canonical_message_id(mid)
        for i, (record_id, m) in enumerate(self.messages):
            stored = canonical_message_id(m.internet_message_id)
            if wanted and norm(m.mailbox) == norm(mailbox) and stored == wanted:
                return MessageRef(i, record_id, m.direction, m.kind, stored)
        return None

    def find_record_answering(self, mailbox: str, mid: str) -> int | None:
        wanted = canonical_message_id(mid)
        for record_id, m in self.messages:
            answers = canonical_message_id(m.in_reply_to)
            if wanted and norm(m.mailbox) == norm(mailbox) and answers == wanted:
                return record_id
        return None

    def find_record_by_message_ids(self, mailbox: str, ids: Sequence[str]) -> int | None:
        for mid in ids:
            ref = self.find_message_by_internet_id(mailbox, mid)
            if ref is not None:
                return ref.record_id
        return None

    def find_record_by_conversation(self, mailbox: str, conversation_id: str) -> int | None:
        for record_id, m in reversed(self.messages):
            if norm(m.mailbox) == norm(mailbox) and m.conversation_id == conversation_id:
                return record_id
        return None

    def find_record_by_thread_root(self, mailbox: str, root: str, requester: str) -> int | None:
        wanted = canonical_message_id(root)
        for record_id, r in sorted(self.records.items()):
            who = r["requester"].address if r["requester"] is not None else None
            keys = (r["mailbox"], r["thread_root"], who)
            if wanted and keys == (norm(mailbox), wanted, norm(requester)):
                return record_id
        return None

    def record_mailbox(self, record_id: int) -> str | None:
        record = self.records.get(record_id)
        return record["mailbox"] if record else None

    def logged_send(self, job_id: str) -> LoggedFacts | None:
        return self.sent_log.get(job_id)

    def record_summary(self, record_id: int) -> RecordSummary | None:
        r = self.records.get(record_id)
        if r is None:
            return None
        return RecordSummary(
            record_id, r["mailbox"], r["subject"], r["requester"], r["status"], r["count"], NOW, NOW
        )

    # -- writes keyed by an email: each logs one outcome, a repeat answers the first ---------

    def _log(
        self,
        mailbox: str,
        message_id: str,
        where: _Where,
        outcome: Outcome,
        record_id: int | None,
        reason: str | None,
        decided: Decided | None = None,
    ) -> ProcessedRow:
        row = ProcessedRow(
            norm(mailbox),
            where.provider,
            message_id,
            where.folder,
            canonical_message_id(where.internet_message_id),
            outcome,
            record_id,
            reason,
            NOW,
            change=decided.change if decided else None,
            ack=decided.ack if decided else None,
        )
        self.processed[(row.mailbox, message_id)] = row
        return row

    def _done(self, mailbox: str, message_id: str) -> WriteResult | None:
        row = self.processed_outcome(mailbox, message_id)
        return WriteResult(row, fresh=False) if row is not None else None

    def _duplicate(self, msg: NewMessage) -> tuple[ProcessedRow | None, NewMessage, str | None]:
        """As the store: a copy of a stored mail (same Message-ID, same content) is logged
        ``ignored``/``duplicate``; another mail reusing the id is stored without it, flagged."""
        assert msg.message_id is not None and msg.internet_message_id is not None
        ref = self.find_message_by_internet_id(msg.mailbox, msg.internet_message_id)
        if ref is None:
            return None, msg, None
        existing: tuple[int, NewMessage] | None = self.messages[ref.id]
        if not _same_content(self.messages[ref.id][1], msg):
            existing = self._by_fingerprint(msg)  # this other mail may itself come twice
        if existing is None:
            return None, replace(msg, internet_message_id=None), REUSED_MESSAGE_ID
        where = _where(msg)
        row = self._log(msg.mailbox, msg.message_id, where, "ignored", existing[0], "duplicate")
        return row, msg, None

    def _by_fingerprint(self, msg: NewMessage) -> tuple[int, NewMessage] | None:
        if msg.content_sha256 is None:
            return None
        for record_id, m in self.messages:
            if norm(m.mailbox) == norm(msg.mailbox) and m.content_sha256 == msg.content_sha256:
                return record_id, m
        return None

    def _store(self, record_id: int, msg: NewMessage) -> None:
        self.messages.append((record_id, msg))

    def create_record_with_message(
        self,
        msg: NewMessage,
        *,
        subject: str | None = None,
        requester: Party | None = None,
        decided: Decided | None = None,
        thread_root: str | None = None,
    ) -> WriteResult:
        where = _where(msg)
        assert msg.message_id is not None
        done = self._done(msg.mailbox, msg.message_id)
        if done is not None:
            return done
        dup, stored, flag = self._duplicate(msg) if msg.internet_message_id else (None, msg, None)
        if dup is not None:
            return WriteResult(dup, fresh=True)
        record_id = max([0, *self.records, *(r for r, _ in self.messages)]) + 1
        who = requester or msg.from_
        self.records[record_id] = {
            "mailbox": norm(msg.mailbox),
            "subject": msg.subject if subject is None else subject,
            "requester": Party(norm(who.address), who.name) if who else None,
            "thread_root": canonical_message_id(thread_root),
            "status": "open",
            "count": 1,
        }
        self._store(record_id, stored)
        row = self._log(msg.mailbox, msg.message_id, where, "created", record_id, flag, decided)
        return WriteResult(row, fresh=True, record=self.record_summary(record_id))

    def append_message(
        self,
        record_id: int,
        msg: NewMessage,
        *,
        reopen: bool = True,
        decided: Decided | None = None,
    ) -> WriteResult:
        where = _where(msg)
        assert msg.message_id is not None
        done = self._done(msg.mailbox, msg.message_id)
        if done is not None:
            return done
        dup, stored, flag = self._duplicate(msg) if msg.internet_message_id else (None, msg, None)
        if dup is not None:
            return WriteResult(dup, fresh=True)
        self._touch(record_id, reopen=reopen)
        self._store(record_id, stored)
        row = self._log(msg.mailbox, msg.message_id, where, "appended", record_id, flag, decided)
        return WriteResult(row, fresh=True)

    def _touch(self, record_id: int, *, reopen: bool) -> None:
        if record_id not in self.records:
            raise RecordNotFound(f"record {record_id} does not exist", hint="-")
        self.records[record_id]["count"] += 1
        if reopen:
            self.records[record_id]["status"] = "open"

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
        done = self._done(mailbox, message_id)
        if done is not None:
            return done
        where = _Where(provider, folder, internet_message_id)
        row = self._log(mailbox, message_id, where, "ignored", record_id, reason)
        return WriteResult(row, fresh=True)

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
        done = self._done(mailbox, message_id)
        if done is not None:
            return done
        where = _Where(provider, folder, internet_message_id)
        row = self._log(mailbox, message_id, where, "quarantined", None, reason)
        self.quarantined.append((message_id, reason[:200]))
        return WriteResult(row, fresh=True)

    def record_outbound(self, record_id: int, msg: NewMessage) -> tuple[MessageRef, bool]:
        if msg.direction != "out" or msg.internet_message_id is None:
            raise ValueError("record_outbound needs an outbound message with a Message-ID")
        ref = self.find_message_by_internet_id(msg.mailbox, msg.internet_message_id)
        if ref is not None:
            return ref, False
        self._touch(record_id, reopen=False)
        self._store(record_id, msg)
        ref = self.find_message_by_internet_id(msg.mailbox, msg.internet_message_id)
        assert ref is not None
        return ref, True

    # -- acknowledgements, outbox, requester cache -------------------------------------------

    def ack_reserved(self, job_id: str) -> bool:
        return job_id in self.acks

    def reserve_ack(
        self,
        job_id: str,
        *,
        mailbox: str,
        recipient: str,
        record_id: int | None,
        limit: int,
        window: timedelta = timedelta(hours=1),
    ) -> bool:
        if job_id in self.acks:
            return True
        recipient = norm(recipient)
        if sum(1 for r in self.acks.values() if r == recipient) >= limit:
            return False
        self.acks[job_id] = recipient
        return True

    def add_job(
        self, job_id: str, mailbox: str, body: str, *, published: bool = False, delay: timedelta
    ) -> bool:
        if job_id in self.outbox:
            return False
        self.outbox[job_id] = {
            "body": body,
            "mailbox": norm(mailbox),
            "attempts": int(published),
            "published": False,
        }
        return True

    def outbox_job(self, job_id: str) -> OutboxRow | None:
        row = self.outbox.get(job_id)
        if row is None:
            return None
        return OutboxRow(
            job_id,
            row["mailbox"],
            row["body"],
            row["attempts"],
            NOW,
            NOW,
            published_at=NOW if row["published"] else None,
            result_status=row.get("status"),
            result=row.get("result"),
        )

    def mark_published(self, job_ids: Sequence[str]) -> None:
        for job_id in job_ids:
            if job_id in self.outbox:
                self.outbox[job_id]["published"] = True

    def confirm_job(self, job_id: str, status: str, result: str) -> bool:
        row = self.outbox.get(job_id)
        if row is None or "status" in row:
            return False
        row["status"], row["result"] = status, result
        return True

    def get_requester(self, address: str) -> Requester | None:
        return self.requesters.get(norm(address))

    def put_requester(self, requester: Requester) -> None:
        stored = replace(requester, address=norm(requester.address))
        self.requesters[stored.address] = stored


# mypy holds the fake to the ports it stands for: a fake that drifts fails the type check.
_FAKE_RECORDS: Records = FakeStore()
_FAKE_CACHE: RequesterCache = FakeStore()
