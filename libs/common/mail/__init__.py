"""The mail-provider port: what the services need of a mailbox, provider-neutral.

``ports`` holds the Protocols, ``models`` the plain data, ``errors`` the errors the services
catch, ``retry`` the retry policy the adapters share, ``providers`` the factory that picks a
mailbox's adapter (Microsoft Graph's, ``libs/common/graph``, or Gmail's,
``libs/common/gmail``). Nothing here imports a provider's client at import time.
"""

from libs.common.mail.errors import (
    CursorExpired,
    MailAuthError,
    MailError,
    MailNotFound,
    MailPermanentError,
    MailRetryableError,
    MailUnavailable,
    OutcomeUnknown,
    SendAsDenied,
    Throttled,
    TooLarge,
)
from libs.common.mail.models import (
    Attachment,
    AttachmentKind,
    BatchOutcome,
    DeltaPage,
    DeltaResult,
    DirectoryUser,
    MailAddress,
    MailFolder,
    MailMessage,
    MessageView,
    OutgoingAttachment,
    SendLimits,
    SendResult,
    Subscription,
)
from libs.common.mail.ports import (
    Mailbox,
    MailMover,
    MailProvider,
    MailReader,
    MailSender,
    MailSubscriptions,
    SetupProbe,
    UserDirectory,
)
from libs.common.mail.providers import open_mailbox, open_probe, open_provider

__all__ = [
    "Attachment",
    "AttachmentKind",
    "BatchOutcome",
    "CursorExpired",
    "DeltaPage",
    "DeltaResult",
    "DirectoryUser",
    "MailAddress",
    "MailAuthError",
    "MailError",
    "MailFolder",
    "MailMessage",
    "MailMover",
    "MailNotFound",
    "MailPermanentError",
    "MailProvider",
    "MailReader",
    "MailRetryableError",
    "MailSender",
    "MailSubscriptions",
    "MailUnavailable",
    "Mailbox",
    "MessageView",
    "OutcomeUnknown",
    "OutgoingAttachment",
    "SendAsDenied",
    "SendLimits",
    "SendResult",
    "SetupProbe",
    "Subscription",
    "Throttled",
    "TooLarge",
    "UserDirectory",
    "open_mailbox",
    "open_probe",
    "open_provider",
]
