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
    MessageView,
    OutgoingAttachment,
    SendResult,
)

#: A Graph ``message`` resource as JSON (only the ``$select``ed properties are present);
#: ``_message.to_message`` makes it the port's ``MailMessage``.
GraphMessage = dict[str, Any]

__all__ = [
    "MESSAGE_SELECT",
    "SELECTS",
    "SUMMARY_SELECT",
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

#: What a ``full`` read asks Graph for per message (``$select``): exactly what a
#: ``MailMessage`` holds, so that large delta pages stay small.
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
    "body",
    "internetMessageHeaders",
)
#: A ``summary`` read: little, so that it may still come for a mail Graph cannot serve in full.
SUMMARY_SELECT = ("id", "internetMessageId", "subject", "from", "receivedDateTime")
#: The ``$select`` of each view of the port.
SELECTS: dict[MessageView, tuple[str, ...]] = {
    "id": ("id",),
    "summary": SUMMARY_SELECT,
    "full": MESSAGE_SELECT,
}


@dataclass(frozen=True)
class BatchRequest:
    """One request inside a ``$batch`` (``url`` relative to the API version, e.g. /users/…)."""

    id: str
    method: str
    url: str
    body: dict[str, Any] | None = None
