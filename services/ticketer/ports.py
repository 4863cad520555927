"""The faces the ticketer's handler works through, so that its decisions run without servers.

``Records`` is what the handler needs of :class:`services.ticketer.store.RecordStore` (the
outbox table included);
``Outbox`` publishes the handler's effects to the broker (the broker adapter is
:class:`services.ticketer.publishing.BrokerOutbox`); ``RequesterLookup`` answers "who is this
sender in the tenant" (:class:`services.ticketer.requesters.RequesterDirectory`). Unit tests
pass in-memory fakes of all three.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Protocol

from libs.common.contracts import BlobRef, OutboundEmail, ProcessedEmail, RecordEvent
from services.ticketer.domain.sentcheck import LoggedFacts
from services.ticketer.store.models import (
    Decided,
    MessageRef,
    NewMessage,
    OutboxRow,
    Party,
    ProcessedRow,
    RecordSummary,
    Requester,
    WriteResult,
)
from services.ticketer.store.prefetch import Expected


class Records(Protocol):
    def unit(self, threads: Collection[str] = ()) -> AbstractContextManager[None]:
        """Every call inside shares one transaction (see :meth:`StoreBase.unit`), which holds
        the locks of ``threads`` (thread keys) from its start to its end."""
        ...

    def processed_outcome(self, mailbox: str, message_id: str) -> ProcessedRow | None: ...

    def processed_outcomes(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], ProcessedRow]: ...

    def expect(self, emails: Sequence[Expected]) -> None:
        """Inside a unit: read the batch's lookups at once (see ``store/prefetch.py``)."""
        ...

    def find_message_by_internet_id(self, mailbox: str, mid: str) -> MessageRef | None: ...

    def find_record_by_message_ids(self, mailbox: str, ids: Sequence[str]) -> int | None: ...

    def find_record_by_conversation(self, mailbox: str, conversation_id: str) -> int | None: ...

    def find_record_by_thread_root(self, mailbox: str, root: str, requester: str) -> int | None: ...

    def find_record_answering(self, mailbox: str, mid: str) -> int | None: ...

    def record_mailbox(self, record_id: int) -> str | None: ...

    def record_summary(self, record_id: int) -> RecordSummary | None: ...

    def logged_send(self, job_id: str) -> LoggedFacts | None: ...

    def create_record_with_message(
        self,
        msg: NewMessage,
        *,
        subject: str | None = None,
        requester: Party | None = None,
        decided: Decided | None = None,
        thread_root: str | None = None,
    ) -> WriteResult: ...

    def append_message(
        self,
        record_id: int,
        msg: NewMessage,
        *,
        reopen: bool = True,
        decided: Decided | None = None,
    ) -> WriteResult: ...

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
    ) -> WriteResult: ...

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
    ) -> WriteResult: ...

    def record_outbound(self, record_id: int, msg: NewMessage) -> tuple[MessageRef, bool]: ...

    def reserve_ack(
        self,
        job_id: str,
        *,
        mailbox: str,
        recipient: str,
        record_id: int | None,
        limit: int,
        window: timedelta = ...,
    ) -> bool: ...

    def ack_reserved(self, job_id: str) -> bool: ...

    def add_job(
        self, job_id: str, mailbox: str, body: str, *, published: bool = ..., delay: timedelta
    ) -> bool: ...

    def mark_published(self, job_ids: Sequence[str]) -> None: ...

    def outbox_job(self, job_id: str) -> OutboxRow | None: ...

    def confirm_job(self, job_id: str, status: str, result: str) -> bool: ...


class Blobs(Protocol):
    """Read access to the blob store (:class:`libs.common.blobs.BlobStore`)."""

    def get(self, ref: BlobRef) -> bytes: ...

    def exists(self, ref: BlobRef) -> bool: ...


class RequesterCache(Protocol):
    def get_requester(self, address: str) -> Requester | None: ...

    def put_requester(self, requester: Requester) -> None: ...


#: A message the handler publishes: to the fetcher, to record followers, to the sender.
Effect = ProcessedEmail | RecordEvent | OutboundEmail


class Outbox(Protocol):
    """Publishes the handler's effects, in order; returns once the broker has every one
    (a raise: treat every one as not published)."""

    def publish(self, messages: Sequence[Effect]) -> None: ...


class RequesterLookup(Protocol):
    """The tenant's view of a sender (display name …), or ``None``. Never raises."""

    def __call__(self, mailbox: str, address: str) -> Requester | None: ...

    def catch_up(self, limit: int = 2) -> int:
        """Ask again for a few senders an earlier failure left unknown; how many answered."""
        ...
