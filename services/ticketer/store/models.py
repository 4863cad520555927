"""Plain data going into and coming out of the record store.

The store speaks these frozen dataclasses, never the broker contracts' pydantic models and
never SQLAlchemy rows, so the ticketer's domain code can build and read them without a database.
Every datetime is timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from libs.common.db.quarantine import QuarantineRow as QuarantineRow

Direction = Literal["in", "out"]
Status = Literal["open", "pending", "closed"]
Kind = Literal["request", "reply", "auto_reply", "note", "delivery_failure", "outbound"]
Outcome = Literal["created", "appended", "ignored", "quarantined"]


@dataclass(frozen=True)
class Party:
    """An address with an optional display name."""

    address: str
    name: str = ""

    def as_json(self) -> dict[str, str]:
        return {"address": self.address, "name": self.name}


@dataclass(frozen=True)
class Attachment:
    """An attachment's metadata; the bytes live in the blob store under ``sha256``."""

    name: str
    sha256: str
    size: int
    content_type: str = "application/octet-stream"
    inline: bool = False
    content_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "content_type": self.content_type,
            "sha256": self.sha256,
            "size": self.size,
            "inline": self.inline,
            "content_id": self.content_id,
        }


@dataclass(frozen=True)
class DeliveryFailure:
    """One recipient a message of ours could not be delivered to."""

    recipient: str
    status: str = ""
    diagnostic: str = ""
    #: Message-ID of the returned (our own) message.
    original_message_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "recipient": self.recipient,
            "status": self.status,
            "diagnostic": self.diagnostic,
            "original_message_id": self.original_message_id,
        }


@dataclass(frozen=True)
class NewMessage:
    """A message to store on a record: an inbound email or one we sent.

    ``provider`` and its ``message_id`` are ``None`` for outbound messages. Message-IDs are
    stored with angle brackets whether or not they were given with them.
    """

    mailbox: str
    direction: Direction
    kind: Kind
    received_at: datetime
    provider: str | None = None
    message_id: str | None = None
    folder: str = "inbox"
    internet_message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    conversation_id: str | None = None
    from_: Party | None = None
    to: tuple[Party, ...] = ()
    cc: tuple[Party, ...] = ()
    subject: str = ""
    body_text: str | None = None
    body_html: str | None = None
    truncated: bool = False
    attachments: tuple[Attachment, ...] = ()
    delivery_failures: tuple[DeliveryFailure, ...] = ()
    #: sha256 of the mail's content as received (``convert.fingerprint``); inbound only.
    content_sha256: str | None = None


@dataclass(frozen=True)
class Decided:
    """What a write stores of the ticketer's decision beside the outcome: the RecordEvent
    ``change`` and the acknowledgement intent, both as the domain encodes them."""

    change: str | None
    ack: str | None


@dataclass(frozen=True)
class ProcessedRow:
    """What became of one email: enough to publish the same ``ProcessedEmail`` again."""

    mailbox: str
    provider: str
    message_id: str
    folder: str
    internet_message_id: str | None
    outcome: Outcome
    record_id: int | None
    reason: str | None
    processed_at: datetime
    #: The decision stored with the outcome (revision 0005): the RecordEvent ``change`` it
    #: announces, and the acknowledgement intent (:mod:`services.ticketer.domain.decision`).
    #: ``ack`` is ``None`` on rows stored before the revision.
    change: str | None = None
    ack: str | None = None


@dataclass(frozen=True)
class WriteResult:
    """The result of a write that is idempotent per email.

    ``fresh`` is ``True`` when this call did the write, ``False`` when an earlier or concurrent
    one had (the caller then republishes ``processed`` and does not announce a new record).
    """

    processed: ProcessedRow
    fresh: bool
    #: The record this write created, as written (``None`` when it created none).
    record: RecordSummary | None = None

    @property
    def record_id(self) -> int | None:
        return self.processed.record_id

    @property
    def created(self) -> bool:
        return self.fresh and self.processed.outcome == "created"


@dataclass(frozen=True)
class MessageRef:
    """Where a stored message is: enough for threading."""

    id: int
    record_id: int
    direction: Direction
    kind: Kind
    internet_message_id: str | None


@dataclass(frozen=True)
class RecordSummary:
    id: int
    mailbox: str
    subject: str
    requester: Party | None
    status: Status
    message_count: int
    created_at: datetime
    updated_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "mailbox": self.mailbox,
            "subject": self.subject,
            "requester": self.requester.as_json() if self.requester else None,
            "status": self.status,
            "message_count": self.message_count,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True)
class StoredMessage:
    id: int
    direction: Direction
    kind: Kind
    message_id: str | None
    internet_message_id: str | None
    in_reply_to: str | None
    conversation_id: str | None
    from_: Party | None
    to: tuple[Party, ...]
    cc: tuple[Party, ...]
    subject: str
    body_text: str | None
    body_html: str | None
    truncated: bool
    received_at: datetime
    attachments: tuple[Attachment, ...] = ()
    delivery_failures: tuple[DeliveryFailure, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "direction": self.direction,
            "kind": self.kind,
            "internet_message_id": self.internet_message_id,
            "from": self.from_.as_json() if self.from_ else None,
            "to": [p.as_json() for p in self.to],
            "cc": [p.as_json() for p in self.cc],
            "subject": self.subject,
            "body_text": self.body_text,
            "truncated": self.truncated,
            "received_at": self.received_at.isoformat(),
            "attachments": [a.as_json() for a in self.attachments],
            "delivery_failures": [d.as_json() for d in self.delivery_failures],
        }


@dataclass(frozen=True)
class RecordDetail:
    record: RecordSummary
    messages: tuple[StoredMessage, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {**self.record.as_json(), "messages": [m.as_json() for m in self.messages]}


@dataclass(frozen=True)
class Requester:
    """A cached Graph user lookup; ``in_tenant`` is ``False`` for outside senders."""

    address: str
    fetched_at: datetime
    name: str = ""
    display_name: str | None = None
    job_title: str | None = None
    department: str | None = None
    in_tenant: bool = False


@dataclass(frozen=True)
class OutboxRow:
    """A job in the outbox: ``body`` is its OutboundEmail JSON; ``result_status`` and
    ``result`` (the OutboundResult JSON) are set once the sender answered."""

    job_id: str
    mailbox: str
    body: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    published_at: datetime | None = None
    result_status: str | None = None
    result: str | None = None
