"""Plain data the Graph client returns and accepts. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from libs.common.graph.errors import GraphError

#: A Graph ``message`` resource as JSON (only the ``$select``ed properties are present).
GraphMessage = dict[str, Any]

#: Folders Graph knows by name in every mailbox; anything else is a display name.
WELL_KNOWN_FOLDERS = frozenset(
    {
        "archive",
        "clutter",
        "conflicts",
        "conversationhistory",
        "deleteditems",
        "drafts",
        "inbox",
        "junkemail",
        "localfailures",
        "msgfolderroot",
        "outbox",
        "recoverableitemsdeletions",
        "scheduled",
        "searchfolders",
        "sentitems",
        "serverfailures",
        "syncissues",
    }
)

#: A message's envelope without its body: the default ``$select`` of listings and delta
#: (big pages can 504; the fetcher passes its own, ``FETCH_SELECT``).
MESSAGE_SELECT = (
    "id",
    "internetMessageId",
    "conversationId",
    "receivedDateTime",
    "subject",
    "from",
    "sender",
    "toRecipients",
    "ccRecipients",
    "replyTo",
    "hasAttachments",
    "parentFolderId",
)
#: Plus the body and headers, for fetching one message in full.
FULL_MESSAGE_SELECT = (*MESSAGE_SELECT, "body", "internetMessageHeaders", "bccRecipients")


@dataclass(frozen=True)
class DeltaResult:
    """One complete delta round for a folder."""

    #: Messages added or changed since the previous round (all of them after a resync).
    messages: list[GraphMessage]
    #: Ids of messages that left the folder (``@removed``).
    removed: list[str]
    #: Persist this; pass it to the next round.
    delta_link: str
    #: True when the given delta link had expired (410) and the folder was synced from scratch.
    resynced: bool = False


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
    #: ``#microsoft.graph.fileAttachment``, ``…itemAttachment`` or ``…referenceAttachment``.
    kind: str = "#microsoft.graph.fileAttachment"


@dataclass(frozen=True)
class OutgoingAttachment:
    """An attachment to send. Large ones go through an upload session automatically."""

    name: str
    content: bytes
    content_type: str = "application/octet-stream"
    is_inline: bool = False
    content_id: str | None = None


@dataclass(frozen=True)
class BatchRequest:
    """One request inside a ``$batch`` (``url`` relative to the API version, e.g. /users/…)."""

    id: str
    method: str
    url: str
    body: dict[str, Any] | None = None


BatchStatus = Literal["ok", "not_found", "error"]


@dataclass(frozen=True)
class BatchOutcome:
    """How one request of a batch ended. ``not_found`` counts as done for delete and move."""

    id: str
    status: int
    outcome: BatchStatus
    body: Any = None
    error: GraphError | None = field(default=None, compare=False)

    @property
    def done(self) -> bool:
        return self.outcome in ("ok", "not_found")


@dataclass(frozen=True)
class SendResult:
    """Graph accepted the message (202: accepted, not yet delivered)."""

    request_id: str | None
    #: The draft's id when the message went through draft + upload sessions.
    draft_id: str | None = None
    internet_message_id: str | None = None
