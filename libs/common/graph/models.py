"""Plain data the Graph client returns and accepts. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The plain data every provider shares lives in the mail port; Graph's names stay here.
from libs.common.mail.models import (
    Attachment,
    BatchOutcome,
    BatchStatus,
    DeltaResult,
    MessageData,
    OutgoingAttachment,
    SendResult,
)

#: A Graph ``message`` resource as JSON (only the ``$select``ed properties are present).
GraphMessage = MessageData

__all__ = [
    "FULL_MESSAGE_SELECT",
    "MESSAGE_SELECT",
    "WELL_KNOWN_FOLDERS",
    "Attachment",
    "BatchOutcome",
    "BatchRequest",
    "BatchStatus",
    "DeltaResult",
    "GraphMessage",
    "OutgoingAttachment",
    "SendResult",
]

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
class BatchRequest:
    """One request inside a ``$batch`` (``url`` relative to the API version, e.g. /users/…)."""

    id: str
    method: str
    url: str
    body: dict[str, Any] | None = None
