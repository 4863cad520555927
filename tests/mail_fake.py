"""The shared in-memory fake of the mail port (``libs.common.mail.Mailbox``).

Unit tests use it instead of a provider; ``tests/integration/test_mail_port_contract.py`` runs
the same checks against it and against the Graph adapter on the simulator, so it behaves as
the adapter does (its change subscriptions: :mod:`tests.mail_fake_subscriptions`). Messages
are kept as raw MIME per folder; the ``MailMessage`` it returns holds the few fields the checks
read (``id``, ``subject``, ``internet_message_id``, ``from_``; the ``id`` view only the id).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from functools import partial
from typing import Any

from libs.common.mail import (
    Attachment,
    BatchOutcome,
    DeltaPage,
    DeltaResult,
    DirectoryUser,
    MailAddress,
    Mailbox,
    MailError,
    MailFolder,
    MailMessage,
    MailNotFound,
    MessageView,
    OutcomeUnknown,
    OutgoingAttachment,
    SendAsDenied,
    SendLimits,
    SendResult,
)
from tests.mail_fake_subscriptions import FakeSubscriptions

#: The Graph adapter's numbers, so that the sender's paths come out as they would there.
SEND_LIMITS = SendLimits(
    message_in_one_request=2_900_000,
    attachment_in_one_request=2_900_000,
    largest_message=150 * 1024 * 1024,
)

#: The display names Graph gives the well-known folders the fake may hold.
_NAMES = {"inbox": "Inbox", "sentitems": "Sent Items", "drafts": "Drafts"}


def parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def message_id_of(mime: bytes) -> str:
    return str(parse(mime)["Message-ID"])


@dataclass
class FakeMailbox(FakeSubscriptions):
    """One mailbox in memory. The knobs tests turn: ``fail_with`` (the next sends raise these),
    ``lose_answers`` (the next N accepted sends raise ``OutcomeUnknown``), ``send_as`` (the
    granted addresses), ``users`` (the organisation's directory)."""

    address: str = "support@contoso.com"
    folders: dict[str, dict[str, bytes]] = field(default_factory=lambda: {"inbox": {}})
    sent: list[bytes] = field(default_factory=list)
    drafts: list[tuple[bytes, list[OutgoingAttachment]]] = field(default_factory=list)
    fail_with: list[Exception] = field(default_factory=list)
    lose_answers: int = 0
    lookups: list[str] = field(default_factory=list)
    #: The ``sender`` of each find_sent, in order (the From the caller built the message with).
    lookup_senders: list[str | None] = field(default_factory=list)
    send_as: set[str] = field(default_factory=set)
    #: Lower-case address → the user.
    users: dict[str, DirectoryUser] = field(default_factory=dict)
    closed: bool = False
    send_limits: SendLimits = SEND_LIMITS
    #: (sequence, folder, "added" | "removed", id): what delta rounds read.
    _events: list[tuple[int, str, str, str]] = field(default_factory=list)
    _seq: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _epoch: int = 0

    # -- what tests set up ---------------------------------------------------------------

    def seed(self, raw: bytes, folder: str = "inbox") -> str:
        return self._put(folder.lower(), f"msg-{next(self._seq)}", raw)

    def expire_cursors(self) -> None:
        self._epoch += 1

    # -- reading -------------------------------------------------------------------------

    def iter_delta(
        self,
        folder: str = "inbox",
        cursor: str | None = None,
        *,
        view: MessageView = "full",
        page_size: int = 50,
    ) -> Iterator[DeltaPage]:
        name, box, since, resynced = folder.lower(), self._folder(folder), 0, False
        if cursor is not None:
            epoch, _, seq = cursor.rpartition(":")
            resynced = epoch != f"{name}@{self._epoch}"
            since = 0 if resynced else int(seq)
        # Per id, what happened to it last since the cursor.
        last = {i: k for s, f, k, i in self._events if f == name and s > since}
        current = [i for i, k in last.items() if k == "added" and i in box] if since else list(box)
        removed = [i for i, k in last.items() if k == "removed"] if since else []
        link = f"{name}@{self._epoch}:{self._last_seq()}"
        messages = [self._data(i, name, view) for i in current]
        yield DeltaPage(messages, removed, link, resynced)

    def delta(
        self,
        folder: str = "inbox",
        cursor: str | None = None,
        *,
        view: MessageView = "full",
        page_size: int = 50,
    ) -> DeltaResult:
        (page,) = self.iter_delta(folder, cursor, view=view)
        return DeltaResult(page.messages, page.removed, str(page.cursor), page.resynced)

    def iter_messages(
        self, folder: str | None = "inbox", *, view: MessageView = "summary", top: int = 50
    ) -> Iterator[MailMessage]:
        names = [folder.lower()] if folder else list(self.folders)
        for name in names:
            yield from (self._data(i, name, view) for i in self.folders.get(name, {}))

    def list_messages(
        self, folder: str = "inbox", *, view: MessageView = "summary", top: int = 50
    ) -> list[MailMessage]:
        return list(self.iter_messages(folder, view=view))

    def get_message(self, message_id: str, *, view: MessageView = "full") -> MailMessage:
        return self._data(message_id, self._where(message_id), view)

    def get_messages_many(
        self, message_ids: Iterable[str], *, view: MessageView = "full"
    ) -> dict[str, MailMessage | MailError]:
        read = partial(self.get_message, view=view)
        return {i: self._or_error(read, i) for i in dict.fromkeys(message_ids)}

    def get_mime(self, message_id: str) -> bytes:
        return self.folders[self._where(message_id)][message_id]

    def get_attachments(self, message_id: str) -> list[Attachment]:
        message = parse(self.get_mime(message_id))
        return [_attachment(n, part) for n, part in enumerate(message.iter_attachments())]

    def get_attachments_many(
        self, message_ids: Iterable[str]
    ) -> dict[str, list[Attachment] | MailError]:
        return {i: self._or_error(self.get_attachments, i) for i in dict.fromkeys(message_ids)}

    def get_folder(self, folder: str = "inbox") -> MailFolder:
        count = len(self._folder(folder))
        name = folder.lower()
        return MailFolder(
            id=f"folder-{name}", display_name=_NAMES.get(name, folder), total_count=count
        )

    def get_user(self, user: str) -> DirectoryUser:
        self.lookups.append(user)
        found = self.users.get(user.lower())
        if found is None:
            raise MailNotFound(f"no user {user}", code="user_not_found", hint="check the address")
        return found

    # -- removing, moving, copying -------------------------------------------------------

    def delete(self, message_id: str) -> bool:
        try:
            self._take(message_id)
        except MailNotFound:
            return False
        return True

    def move(self, message_id: str, folder: str) -> str:
        return self._put(folder.lower(), message_id, self._take(message_id))

    def copy(self, message_id: str, folder: str) -> str:
        return self._put(folder.lower(), f"msg-{next(self._seq)}", self.get_mime(message_id))

    def delete_many(self, message_ids: Iterable[str]) -> dict[str, BatchOutcome]:
        return self._many(message_ids, lambda i: self._take(i) and None)

    def move_many(self, message_ids: Iterable[str], folder: str) -> dict[str, BatchOutcome]:
        return self._many(message_ids, lambda i: {"id": self.move(i, folder)})

    def copy_many(self, message_ids: Iterable[str], folder: str) -> dict[str, BatchOutcome]:
        return self._many(message_ids, lambda i: {"id": self.copy(i, folder)})

    # -- sending -------------------------------------------------------------------------

    def send_mime(self, mime: bytes) -> SendResult:
        self._before_send(mime)
        self.sent.append(mime)
        return self._answer(f"req-{len(self.sent)}")

    def send_mime_draft(
        self,
        mime: bytes,
        attachments: Sequence[OutgoingAttachment] = (),
        *,
        attachment_post_limit: int = 0,
    ) -> SendResult:
        self._before_send(mime)
        self.drafts.append((mime, list(attachments)))
        return self._answer("req-draft")

    def find_sent(self, internet_message_id: str, *, sender: str | None = None) -> bool:
        """The sent folder: every message sent, by its Message-ID header."""
        self.lookups.append(internet_message_id)
        self.lookup_senders.append(sender)
        out = [*self.sent, *(m for m, _ in self.drafts)]
        return any(message_id_of(m) == internet_message_id for m in out)

    # -- the rest of the port ------------------------------------------------------------

    def retry_budget(self, budget_s: float) -> AbstractContextManager[None]:
        return nullcontext()

    def close(self) -> None:
        self.closed = True

    # -- plumbing ------------------------------------------------------------------------

    def _before_send(self, mime: bytes) -> None:
        if self.fail_with:
            raise self.fail_with.pop(0)
        sender = parseaddr(str(parse(mime)["From"] or ""))[1].lower()
        if sender and sender != self.address and sender not in self.send_as:
            raise SendAsDenied(
                f"{self.address} may not send as {sender}",
                code="send_as_denied",
                hint="grant Send As",
            )

    def _answer(self, request_id: str) -> SendResult:
        if self.lose_answers:
            self.lose_answers -= 1
            raise OutcomeUnknown("send failed: HTTP 504", code="http_504")
        return SendResult(request_id)

    def _folder(self, folder: str) -> dict[str, bytes]:
        found = self.folders.get(folder.lower())
        if found is None:
            raise MailNotFound(f"no folder {folder}", code="folder_not_found", hint="check it")
        return found

    def _where(self, message_id: str) -> str:
        for name, messages in self.folders.items():
            if message_id in messages:
                return name
        raise MailNotFound(f"no message {message_id}", code="not_found", hint="already gone")

    def _take(self, message_id: str) -> bytes:
        folder = self._where(message_id)
        self._events.append((next(self._seq), folder, "removed", message_id))
        return self.folders[folder].pop(message_id)

    def _put(self, folder: str, message_id: str, raw: bytes) -> str:
        self.folders.setdefault(folder, {})[message_id] = raw
        self._events.append((next(self._seq), folder, "added", message_id))
        return message_id

    def _last_seq(self) -> int:
        return self._events[-1][0] if self._events else 0

    def _data(self, message_id: str, folder: str, view: MessageView) -> MailMessage:
        if view == "id":
            return MailMessage(message_id)
        message = parse(self.folders[folder][message_id])
        name, address = parseaddr(str(message["From"] or ""))
        return MailMessage(
            message_id,
            internet_message_id=str(message["Message-ID"] or ""),
            subject=str(message["Subject"] or ""),
            from_=MailAddress(address, name) if address else None,
        )

    def _or_error(self, read: Any, message_id: str) -> Any:
        try:
            return read(message_id)
        except MailError as exc:
            return exc

    def _many(self, message_ids: Iterable[str], act: Any) -> dict[str, BatchOutcome]:
        outcomes = {}
        for n, message_id in enumerate(dict.fromkeys(message_ids)):
            try:
                outcomes[message_id] = BatchOutcome(str(n), 200, "ok", act(message_id))
            except MailNotFound as exc:
                outcomes[message_id] = BatchOutcome(str(n), 404, "not_found", None, exc)
        return outcomes


def _attachment(n: int, part: EmailMessage) -> Attachment:
    data = part.get_payload(decode=True)
    content = data if isinstance(data, bytes) else b""
    return Attachment(
        id=f"att-{n}",
        name=part.get_filename() or "",
        content_type=part.get_content_type(),
        size=len(content),
        is_inline=part.get_content_disposition() == "inline",
        content_id=part["Content-ID"],
        content=content,
    )


def as_port(fake: FakeMailbox) -> Mailbox:
    """The fake as the port it stands for (mypy checks it implements all of it)."""
    return fake
