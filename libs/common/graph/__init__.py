"""Microsoft Graph mail client: msal tokens, httpx, immutable ids, typed errors, throttling.

The mail port's Microsoft adapter (``libs/common/mail``): ``GraphMail`` implements
:class:`libs.common.mail.Mailbox`; ``errors`` maps Graph's answers to the port's neutral
errors; ``models`` the plain data it returns. Only ``libs.common.mail.providers`` (and the
Graph client's own tests) import this package.
"""

from libs.common.graph._http import RetryEvent
from libs.common.graph._retry import RetryPolicy
from libs.common.graph.errors import (
    DeltaExpired,
    GraphAuthError,
    GraphError,
    GraphNotFound,
    GraphOutcomeUnknown,
    GraphPermanentError,
    GraphRetryableError,
    GraphSendAsDenied,
    GraphThrottled,
    GraphTooLarge,
    GraphUnavailable,
    TooLarge,
)
from libs.common.graph.mail import GraphMail
from libs.common.graph.models import (
    MESSAGE_SELECT,
    SELECTS,
    SUMMARY_SELECT,
    Attachment,
    BatchOutcome,
    BatchRequest,
    DeltaResult,
    GraphMessage,
    OutgoingAttachment,
    SendResult,
)

__all__ = [
    "MESSAGE_SELECT",
    "SELECTS",
    "SUMMARY_SELECT",
    "Attachment",
    "BatchOutcome",
    "BatchRequest",
    "DeltaExpired",
    "DeltaResult",
    "GraphAuthError",
    "GraphError",
    "GraphMail",
    "GraphMessage",
    "GraphNotFound",
    "GraphOutcomeUnknown",
    "GraphPermanentError",
    "GraphRetryableError",
    "GraphSendAsDenied",
    "GraphThrottled",
    "GraphTooLarge",
    "GraphUnavailable",
    "OutgoingAttachment",
    "RetryEvent",
    "RetryPolicy",
    "SendResult",
    "TooLarge",
]
