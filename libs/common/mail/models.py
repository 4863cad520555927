"""Plain data the mail port returns and accepts, whatever the provider. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from libs.common.mail.errors import MailError

#: How much of each message a read returns: its ``id`` only (a listing that renders nothing
#: of a message), a ``summary`` (also its Message-ID, subject, sender and time: little, so
#: that it may come where the rest fails) or ``full`` (every field of :class:`MailMessage`).
MessageView = Literal["id", "summary", "full"]


@dataclass(frozen=True)
class MailAddress:
    """A name and an address as the provider gave them: not checked (an address may be
    empty or an X.500 path, a name may hold line breaks); the consumer decides."""

    address: str
    name: str = ""


@dataclass(frozen=True)
class MailMessage:
    """One message's properties, whatever the provider. Fields the read's
    :data:`MessageView` leaves out, or the provider did not give, are empty; values are as
    the provider gave them (the fetcher's mapping makes them fit the contracts)."""

    id: str
    internet_message_id: str | None = None
    conversation_id: str | None = None
    #: The time it was received, as ISO 8601 text as the provider gave it (parsed
    #: leniently by the consumer: a missing or bad time is not the message's end).
    received_at: str | None = None
    subject: str | None = None
    from_: MailAddress | None = None
    sender: MailAddress | None = None
    to: tuple[MailAddress, ...] = ()
    cc: tuple[MailAddress, ...] = ()
    reply_to: tuple[MailAddress, ...] = ()
    #: The provider's word that files are attached (it may ignore inline images).
    has_attachments: bool = False
    #: The body, in the provider's chosen form (``body_type``); empty when there is none.
    body: str = ""
    body_type: Literal["text", "html"] = "text"
    #: Every header as (name, value), in the message's order, values as given (maybe folded).
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DeltaPage:
    """One page of a round of changes since a cursor, as ``iter_delta`` yields it."""

    messages: list[MailMessage]
    #: Ids of messages that left the folder.
    removed: list[str]
    #: On the round's last page only: the cursor to persist and pass to the next round.
    cursor: str | None = None
    #: True when the given cursor had expired and the folder is read from scratch.
    resynced: bool = False


@dataclass(frozen=True)
class DeltaResult:
    """One complete round of changes for a folder."""

    #: Messages added or changed since the previous round (all of them after a resync).
    messages: list[MailMessage]
    #: Ids of messages that left the folder.
    removed: list[str]
    #: The cursor: persist this; pass it to the next round.
    cursor: str
    #: True when the given cursor had expired and the folder was read from scratch.
    resynced: bool = False


@dataclass(frozen=True)
class MailFolder:
    """A folder's properties, read without reading its mail."""

    #: The provider's id of the folder (opaque to the services).
    id: str
    display_name: str | None = None
    #: How many messages it holds, when the provider says.
    total_count: int | None = None


@dataclass(frozen=True)
class DirectoryUser:
    """Who an address is in the mailbox's organisation: the properties the provider gave
    (None when it gave none), values as given."""

    #: The provider's id of the user (opaque to the services).
    id: str
    display_name: str | None = None
    mail: str | None = None
    #: The sign-in name (Microsoft's UPN, an address in form).
    user_principal_name: str | None = None
    job_title: str | None = None
    department: str | None = None


#: What a received attachment is (see :attr:`Attachment.kind`).
AttachmentKind = Literal["file", "item", "reference"]


@dataclass(frozen=True)
class Attachment:
    """A received attachment with its bytes decoded."""

    id: str
    name: str
    content_type: str
    size: int
    is_inline: bool
    content_id: str | None
    content: bytes
    #: ``file``: bytes; ``item``: an attached message or event, as its MIME bytes;
    #: ``reference``: a link to a file stored elsewhere, no bytes.
    kind: AttachmentKind = "file"


@dataclass(frozen=True)
class OutgoingAttachment:
    """An attachment to send. Large ones go through the provider's upload path."""

    name: str
    content: bytes
    content_type: str = "application/octet-stream"
    is_inline: bool = False
    content_id: str | None = None


BatchStatus = Literal["ok", "not_found", "error"]


@dataclass(frozen=True)
class BatchOutcome:
    """How one item of a batch ended. ``not_found`` counts as done for delete and move."""

    id: str
    status: int
    outcome: BatchStatus
    #: A move's or copy's answer: ``body["id"]`` is the new id.
    body: Any = None
    error: MailError | None = field(default=None, compare=False)

    @property
    def done(self) -> bool:
        return self.outcome in ("ok", "not_found")


@dataclass(frozen=True)
class SendLimits:
    """The sizes, in bytes, a mailbox's provider takes when sending: what a sender plans a
    message's path by (Graph's, and how they follow from its request cap, are in
    ``libs/common/graph/_send.py``)."""

    #: Largest raw MIME message sent in one request (``send_mime``); a larger one goes
    #: through ``send_mime_draft``, its large attachments added on their own.
    message_in_one_request: int
    #: Largest attachment added to a draft in one request; a larger one is uploaded in parts.
    attachment_in_one_request: int
    #: Largest message (encoded) the provider takes at all: the sender's default limit.
    largest_message: int


@dataclass(frozen=True)
class SendResult:
    """The provider accepted the message (accepted, not yet delivered)."""

    request_id: str | None
    #: The draft's id when the message went through a draft and uploads.
    draft_id: str | None = None
    internet_message_id: str | None = None


@dataclass(frozen=True)
class Subscription:
    """A change subscription on a mailbox folder: the provider calls the notification URL
    when mail arrives there, until ``expires_at`` (the provider's, never assumed)."""

    id: str
    expires_at: datetime
