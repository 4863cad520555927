"""GraphMail: the face the services use for one mailbox's mail through Microsoft Graph."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Self
from urllib.parse import quote, urlencode

import httpx

from libs.common.graph import _reading, _send
from libs.common.graph._attachments import AttachmentReader
from libs.common.graph._batch import run_batch
from libs.common.graph._folders import FolderResolver
from libs.common.graph._http import (
    PREFER_IMMUTABLE,
    GraphHttp,
    RetryEvent,
    TokenProvider,
    build_client,
)
from libs.common.graph._message import to_message
from libs.common.graph._reading import DeltaPage
from libs.common.graph._retry import RetryPolicy
from libs.common.graph.auth import TokenSource
from libs.common.graph.errors import DeltaExpired, GraphNotFound, GraphPermanentError
from libs.common.graph.models import (
    SELECTS,
    Attachment,
    BatchOutcome,
    BatchRequest,
    DeltaResult,
    OutgoingAttachment,
    SendResult,
)
from libs.common.mail.errors import MailError
from libs.common.mail.models import MailMessage, MessageView
from libs.common.settings import GraphConfig, MailboxConfig


class GraphMail:
    """Mail operations on one mailbox. Thread-safe; share one per mailbox and process.

    Every request asks for immutable ids, goes through the mailbox's process-wide gate (at
    most ``max_concurrency`` in flight, the 10-minute budget) and raises typed errors from
    :mod:`libs.common.graph.errors` once retrying cannot or may not help.
    """

    send_limits = _send.SEND_LIMITS

    def __init__(
        self,
        graph: GraphConfig,
        mailbox: MailboxConfig,
        *,
        tokens: TokenProvider | None = None,
        transport: httpx.BaseTransport | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ) -> None:
        self.address = mailbox.address
        self._client = build_client(graph, transport)
        self._sleep = sleep
        self._http = GraphHttp(
            graph,
            mailbox.address,
            tokens or TokenSource(graph, mailbox),
            client=self._client,
            policy=policy,
            sleep=sleep,
            on_retry=on_retry,
        )
        self._user = f"/users/{quote(mailbox.address, safe='@')}"
        self._folders = FolderResolver(self._http, self._user)
        self._attachments = AttachmentReader(self._http, self._msg, self.batch)

    def __repr__(self) -> str:
        return f"GraphMail(mailbox={self.address!r}, base_url={self._http.base_url!r})"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def retry_budget(self, budget_s: float) -> AbstractContextManager[None]:
        """Within the block, the calling thread's requests retry for at most ``budget_s``
        seconds (never longer than the client's own budget); other threads are unaffected."""
        return self._http.retry_budget(budget_s)

    @property
    def requests_sent(self) -> int:
        """HTTP requests this object sent (retries included), for the benchmark."""
        return self._http.requests_sent

    # -- reading -------------------------------------------------------------------------

    def iter_messages(
        self,
        folder: str | None = "inbox",
        *,
        view: MessageView = "summary",
        top: int = 50,
    ) -> Iterator[MailMessage]:
        """Every message of ``folder`` (of the whole mailbox when None), page by page
        (``@odata.nextLink`` used as given)."""
        url = (
            f"{self._user}/messages"
            if folder is None
            else f"{self._user}/mailFolders/{self._folder_ref(folder)}/messages"
        )
        return _reading.list_pages(self._get_json, url, SELECTS[view], top)

    def list_messages(
        self, folder: str = "inbox", *, view: MessageView = "summary", top: int = 50
    ) -> list[MailMessage]:
        return list(self.iter_messages(folder, view=view, top=top))

    def delta(
        self,
        folder: str = "inbox",
        delta_link: str | None = None,
        *,
        view: MessageView = "full",
        page_size: int = 50,
    ) -> DeltaResult:
        """Changes since ``delta_link`` (everything when None); an expired link resyncs."""
        return _reading.collect(self.iter_delta(folder, delta_link, view=view, page_size=page_size))

    def iter_delta(
        self,
        folder: str = "inbox",
        delta_link: str | None = None,
        *,
        view: MessageView = "full",
        page_size: int = 50,
    ) -> Iterator[DeltaPage]:
        """The pages of one delta round as they arrive, the last with the delta link, so that
        a caller can use the pages read before one that fails. An expired link (410, also
        half-way through) starts the round over once from scratch (pages marked ``resynced``).
        A saved link asks for what the round that made it asked for."""
        select = SELECTS[view]

        def fresh() -> str:
            return f"{self._user}/mailFolders/{self._folder_ref(folder)}/messages/delta"

        def get_page(url: str, params: Mapping[str, str] | None, size: int) -> dict[str, Any]:
            prefer = (f"odata.maxpagesize={size}",)
            return self._get_json(url, what="delta", params=params, prefer=prefer)

        try:
            if delta_link:
                yield from _reading.delta_pages(get_page, delta_link, None, page_size)
            else:
                yield from _reading.delta_pages(get_page, fresh(), select, page_size)
        except DeltaExpired:
            yield from _reading.delta_pages(get_page, fresh(), select, page_size, resynced=True)

    def get_message(self, message_id: str, *, view: MessageView = "full") -> MailMessage:
        params = {"$select": ",".join(SELECTS[view])}
        return to_message(self._get_json(self._msg(message_id), what="get message", params=params))

    def get_messages_many(
        self, message_ids: Iterable[str], *, view: MessageView = "full"
    ) -> dict[str, MailMessage | MailError]:
        """Many messages by ``$batch`` (20 per request): per id (in input order, duplicates
        once) the message, or that message's typed error (:class:`GraphNotFound` when it is
        gone). A refused token raises: it is no message's fault."""
        ids = list(dict.fromkeys(message_ids))
        query = urlencode({"$select": ",".join(SELECTS[view])})
        items = [
            BatchRequest(str(n), "GET", f"{self._msg(mid)}?{query}") for n, mid in enumerate(ids)
        ]
        return _reading.messages_of(ids, self.batch(items))

    def get_mime(self, message_id: str) -> bytes:
        """The message as RFC 822 bytes (``$value``)."""
        return self._http.request("GET", f"{self._msg(message_id)}/$value", what="get MIME").content

    def get_attachments(self, message_id: str) -> list[Attachment]:
        """Every attachment with its bytes decoded (fetched separately when not inline)."""
        return self._attachments.get(message_id)

    def get_attachments_many(
        self, message_ids: Iterable[str]
    ) -> dict[str, list[Attachment] | MailError]:
        """Attachments of many messages, listed by ``$batch`` (20 messages per request):
        per id (in input order, duplicates once) its attachments as :meth:`get_attachments`
        gives them, or that message's typed error (:class:`GraphNotFound` when it is gone)."""
        return self._attachments.get_many(message_ids)

    def get_folder(
        self, folder: str = "inbox", *, select: Sequence[str] = ("id", "totalItemCount")
    ) -> dict[str, Any]:
        """The folder resource (``GET mailFolders/{folder}``): renders no message."""
        return self._get_json(
            f"{self._user}/mailFolders/{self._folder_ref(folder)}",
            what="get folder",
            params={"$select": ",".join(select)},
        )

    def get_user(
        self,
        user: str,
        *,
        select: Sequence[str] = ("id", "displayName", "mail", "userPrincipalName"),
    ) -> dict[str, Any]:
        """The user's properties. Any 404 means "no such user" here (Graph answers
        ``Request_ResourceNotFound`` or ``ErrorInvalidUser``): :class:`GraphNotFound`."""
        try:
            return self._get_json(
                f"/users/{quote(user, safe='@')}",
                what="get user",
                params={"$select": ",".join(select)},
            )
        except GraphPermanentError as exc:
            if exc.status != 404 or isinstance(exc, GraphNotFound):
                raise
            raise GraphNotFound(
                exc.message,
                status=exc.status,
                code=exc.code,
                request_id=exc.request_id,
                hint=exc.hint,
            ) from exc

    # -- changing ------------------------------------------------------------------------

    def delete(self, message_id: str) -> bool:
        """Soft-delete (into Recoverable Items). False when it was already gone."""
        try:
            self._http.request("DELETE", self._msg(message_id), what="delete message")
        except GraphNotFound:
            return False
        return True

    def move(self, message_id: str, folder: str) -> str:
        """Move into ``folder`` (well-known or display name, created on demand); the new id."""
        return self._move_or_copy("move", message_id, folder)

    def copy(self, message_id: str, folder: str) -> str:
        """Copy into ``folder``; the copy's id."""
        return self._move_or_copy("copy", message_id, folder)

    def _move_or_copy(self, action: str, message_id: str, folder: str) -> str:
        response = self._http.request(
            "POST",
            f"{self._msg(message_id)}/{action}",
            what=f"{action} message",
            json={"destinationId": self.folder_id(folder)},
            idempotent=action == "move",  # a repeated move finds nothing; a copy duplicates
        )
        return str(response.json()["id"])

    def delete_many(self, message_ids: Iterable[str]) -> dict[str, BatchOutcome]:
        """Delete by ``$batch``; outcome per id (``not_found`` counts as done)."""
        ids = list(dict.fromkeys(message_ids))
        items = [BatchRequest(str(i), "DELETE", self._msg(mid)) for i, mid in enumerate(ids)]
        return dict(zip(ids, self.batch(items), strict=True))

    def move_many(self, message_ids: Iterable[str], folder: str) -> dict[str, BatchOutcome]:
        """Move by ``$batch``; an ``ok`` outcome's ``body["id"]`` is the new id."""
        return self._move_or_copy_many("move", message_ids, folder)

    def copy_many(self, message_ids: Iterable[str], folder: str) -> dict[str, BatchOutcome]:
        """Copy by ``$batch``; an ``ok`` outcome's ``body["id"]`` is the copy's id."""
        return self._move_or_copy_many("copy", message_ids, folder)

    def _move_or_copy_many(
        self, action: str, message_ids: Iterable[str], folder: str
    ) -> dict[str, BatchOutcome]:
        ids = list(dict.fromkeys(message_ids))
        body = {"destinationId": self.folder_id(folder)}
        items = [
            BatchRequest(str(i), "POST", f"{self._msg(mid)}/{action}", body)
            for i, mid in enumerate(ids)
        ]
        return dict(zip(ids, self.batch(items), strict=True))

    def batch(self, items: Sequence[BatchRequest]) -> list[BatchOutcome]:
        """Any requests as ``$batch`` (≤ 20 each, throttled items retried); in input order."""
        return run_batch(
            items,
            lambda body: self._http.request("POST", "/$batch", what="$batch", json=body).json(),
            prefer=PREFER_IMMUTABLE,
            policy=self._http.policy,
            sleep=self._sleep,
            clock=time.monotonic,
        )

    # -- folders -------------------------------------------------------------------------

    def folder_id(self, name: str, *, create: bool = True) -> str:
        """A well-known name as is; otherwise the id of the top-level folder of that display
        name, created when missing (and ``create``)."""
        return self._folders.folder_id(name, create=create)

    def _folder_ref(self, folder: str) -> str:
        return quote(self.folder_id(folder, create=False), safe="")

    # -- sending -------------------------------------------------------------------------

    def send_mail(
        self,
        message: Mapping[str, Any],
        attachments: Sequence[OutgoingAttachment] = (),
        *,
        save_to_sent_items: bool = True,
    ) -> SendResult:
        """Send a Graph ``message`` (set ``from`` to send as an agent); large attachments go
        through a draft and upload sessions."""
        return _send.send_mail(self._http, self._user, message, attachments, save_to_sent_items)

    def send_mime(self, mime: bytes) -> SendResult:
        """Send an RFC 822 message as is (Graph saves it to Sent Items)."""
        return _send.send_mime(self._http, self._user, mime)

    def send_mime_draft(
        self,
        mime: bytes,
        attachments: Sequence[OutgoingAttachment] = (),
        *,
        attachment_post_limit: int = _send.ATTACHMENT_INLINE_LIMIT,
    ) -> SendResult:
        """Send a message too big for one request: a draft created from ``mime`` (headers
        kept), ``attachments`` added to it (upload sessions above ``attachment_post_limit``
        bytes), then sent. Graph saves it to Sent Items."""
        return _send.send_mime_via_draft(
            self._http, self._user, mime, attachments, attachment_post_limit=attachment_post_limit
        )

    def find_sent(self, internet_message_id: str) -> bool:
        """Whether Sent Items holds a message with this Internet Message-ID (``<id@host>``):
        how a sender finds out whether a send whose answer was lost went out."""
        return _send.find_sent(self._get_json, self._user, internet_message_id)

    # -- plumbing ------------------------------------------------------------------------

    def _msg(self, message_id: str) -> str:
        return f"{self._user}/messages/{quote(message_id, safe='')}"

    def _get_json(
        self,
        url: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        prefer: Sequence[str] = (),
    ) -> dict[str, Any]:
        data = self._http.request("GET", url, what=what, params=params, prefer=prefer).json()
        return data if isinstance(data, dict) else {}
