"""What the services need of a mailbox, whatever provider serves it: the mail port.

Each Protocol is one group of operations, named by what a service does with it; a service
asks for the smallest group it uses (the sender a :class:`MailSender`, the ticketer's lookup a
:class:`UserDirectory`). A provider adapter implements them all as one :class:`Mailbox`
(Microsoft Graph's is :class:`libs.common.graph.GraphMail`, Gmail's
:class:`libs.common.gmail.GmailMail`) and raises only the errors of
:mod:`libs.common.mail.errors`. Ids and cursors are the provider's own strings, opaque to the
services. ``tests/mail_fake.py`` is the shared fake;
``tests/integration/test_mail_port_contract.py`` runs the same checks against it and both
adapters.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from libs.common.mail.errors import MailError
from libs.common.mail.models import (
    Attachment,
    BatchOutcome,
    DeltaPage,
    DeltaResult,
    DirectoryUser,
    MailFolder,
    MailMessage,
    MessageView,
    OutgoingAttachment,
    SendLimits,
    SendResult,
    Subscription,
)
from libs.common.settings import MailboxConfig


class MailReader(Protocol):
    """Reading: changes since a cursor, one message (properties, raw MIME, attachments).
    Messages come as :class:`~libs.common.mail.models.MailMessage`, with as much of each as
    the ``view`` asks for."""

    address: str

    def iter_delta(
        self,
        folder: str = ...,
        cursor: str | None = ...,
        *,
        view: MessageView = ...,
        page_size: int = ...,
    ) -> Iterator[DeltaPage]:
        """The pages of changes since ``cursor`` (everything when None); the last page
        carries the next cursor. An expired cursor reads the folder from scratch."""
        ...

    def delta(
        self,
        folder: str = ...,
        cursor: str | None = ...,
        *,
        view: MessageView = ...,
        page_size: int = ...,
    ) -> DeltaResult: ...

    def iter_messages(
        self, folder: str | None = ..., *, view: MessageView = ..., top: int = ...
    ) -> Iterator[MailMessage]: ...

    def list_messages(
        self, folder: str = ..., *, view: MessageView = ..., top: int = ...
    ) -> list[MailMessage]: ...

    def get_message(self, message_id: str, *, view: MessageView = ...) -> MailMessage: ...

    def get_messages_many(
        self, message_ids: Iterable[str], *, view: MessageView = ...
    ) -> dict[str, MailMessage | MailError]:
        """Per id (input order, duplicates once) the message or that message's error."""
        ...

    def get_mime(self, message_id: str) -> bytes: ...

    def get_attachments(self, message_id: str) -> list[Attachment]: ...

    def get_attachments_many(
        self, message_ids: Iterable[str]
    ) -> dict[str, list[Attachment] | MailError]: ...

    def get_folder(self, folder: str = ...) -> MailFolder:
        """The folder's properties, reading no message (a cheap liveness read);
        :class:`~libs.common.mail.errors.MailNotFound` when there is no such folder."""
        ...


class MailMover(Protocol):
    """Removing, moving and copying mail, one by one or in batches (the quarantine is a
    move). A message already gone counts as done: ``delete`` says False, a batch
    ``not_found``."""

    def delete(self, message_id: str) -> bool: ...

    def move(self, message_id: str, folder: str) -> str: ...

    def copy(self, message_id: str, folder: str) -> str: ...

    def delete_many(self, message_ids: Iterable[str]) -> dict[str, BatchOutcome]: ...

    def move_many(self, message_ids: Iterable[str], folder: str) -> dict[str, BatchOutcome]: ...

    def copy_many(self, message_ids: Iterable[str], folder: str) -> dict[str, BatchOutcome]: ...


class MailSender(Protocol):
    """Sending a built MIME message: small in one request, large with its attachments added
    separately. Sending as another address is the MIME's From; a refusal is
    :class:`~libs.common.mail.errors.SendAsDenied`, a lost answer
    :class:`~libs.common.mail.errors.OutcomeUnknown` (then ``find_sent`` tells)."""

    #: The provider's sizes: which messages go in one request, which attachments are
    #: uploaded in parts, how large a message may be at all.
    send_limits: SendLimits

    def send_mime(self, mime: bytes) -> SendResult: ...

    def send_mime_draft(
        self,
        mime: bytes,
        attachments: Sequence[OutgoingAttachment] = (),
        *,
        attachment_post_limit: int = ...,
    ) -> SendResult: ...

    def find_sent(self, internet_message_id: str, *, sender: str | None = None) -> bool:
        """Whether a sent folder holds a message with this Message-ID (``<id@host>``).
        ``sender``: the From the message was built with, for a provider that files a copy
        sent as someone else in that someone's own Sent (Gmail's impersonation); the
        answer is the provider's, never what this process remembers."""
        ...


class UserDirectory(Protocol):
    """Who an address is in the mailbox's organisation."""

    def get_user(self, user: str) -> DirectoryUser:
        """The user's properties; :class:`~libs.common.mail.errors.MailNotFound` when the
        organisation has no such user."""
        ...


class MailSubscriptions(Protocol):
    """Change subscriptions (push, docs/push.md): the provider calls our notification URL
    when mail arrives in a folder. Expiry is the provider's to say: ``expires_at`` is asked
    for, the returned :class:`~libs.common.mail.models.Subscription` says what was granted.
    A subscription the provider no longer knows is
    :class:`~libs.common.mail.errors.MailNotFound`; a refused one (the provider could not
    validate the notification URL) a :class:`~libs.common.mail.errors.MailPermanentError`."""

    def subscribe(
        self,
        folder: str,
        *,
        notification_url: str,
        lifecycle_url: str,
        client_state: str,
        expires_at: datetime,
    ) -> Subscription:
        """New mail in ``folder`` notified; ``client_state`` comes back in every notification."""
        ...

    def renew(self, subscription_id: str, expires_at: datetime) -> Subscription: ...

    def subscription(self, subscription_id: str) -> Subscription:
        """The subscription as the provider knows it now; ``MailNotFound`` once it is gone."""
        ...

    def reauthorize(self, subscription_id: str) -> None:
        """Answer a ``reauthorizationRequired`` lifecycle event: the subscription goes on."""
        ...

    def unsubscribe(self, subscription_id: str) -> bool:
        """End it; False when the provider no longer knew it."""
        ...


class Mailbox(MailReader, MailMover, MailSender, UserDirectory, MailSubscriptions, Protocol):
    """Every operation on one mailbox, as a provider adapter implements it."""

    def retry_budget(self, budget_s: float) -> AbstractContextManager[None]:
        """Within the block, the calling thread's calls keep retrying for at most
        ``budget_s`` seconds before they raise a retryable error."""
        ...

    def close(self) -> None: ...


class MailProvider(Protocol):
    """One :class:`Mailbox` per configured mailbox, made on first use, shared by threads."""

    def __call__(self, box: MailboxConfig) -> Mailbox: ...

    def close(self) -> None:
        """Close every mailbox made (their connections)."""
        ...


class SetupProbe(Protocol):
    """The harmless calls ``mailpipe doctor`` makes to check a mailbox's setup (Microsoft's
    adapter: :class:`libs.common.graph.probe.MailboxProbe`)."""

    def fresh_token(self) -> str:
        """A token straight from the authority, never a cached one."""
        ...

    def get_user(self, user: str) -> DirectoryUser: ...

    def first_message_id(self, folder: str = "inbox") -> str | None: ...

    def find_folder(self, name: str) -> str | None:
        """The folder's id, or None; never creates it."""
        ...

    def create_draft(self, message: Mapping[str, Any]) -> str: ...

    def permanent_delete(self, message_id: str) -> bool: ...

    def send_mail(
        self,
        message: Mapping[str, Any],
        attachments: Sequence[Any] = (),
        *,
        save_to_sent_items: bool = True,
    ) -> Any: ...

    def close(self) -> None: ...


class GoogleSetupProbe(Protocol):
    """The harmless calls ``mailpipe doctor`` makes to check a Google mailbox's setup
    (:class:`libs.common.gmail.probe.GmailProbe`); no mail is read, changed or sent."""

    def key_facts(self) -> tuple[str, str]:
        """The key's service account address and client id; ConfigError when the key does
        not parse or its private key does not load."""
        ...

    def token(self, user: str, scope: str) -> None:
        """A fresh token acting as ``user`` for ``scope`` alone (MailError when refused)."""
        ...

    def profile(self) -> Mapping[str, Any]:
        """The mailbox's ``users.getProfile``."""
        ...

    def find_label(self, name: str) -> str | None:
        """The label's id (system labels by well-known folder name), or None; never creates it."""
        ...

    def send_as_status(self, address: str) -> str | None:
        """The mailbox's sendAs alias ``address``'s verificationStatus, or None when absent."""
        ...

    def directory_user(self, address: str) -> Mapping[str, Any]:
        """``address``'s public profile in the Workspace directory (requester lookups)."""
        ...

    def close(self) -> None: ...
