"""GraphMail's reading: message lists, delta rounds, one or many messages (properties, MIME,
attachments), a folder and a user."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from libs.common.graph import _reading
from libs.common.graph._mailbox_base import MailboxBase
from libs.common.graph._message import to_message
from libs.common.graph._resources import FOLDER_SELECT, USER_SELECT, to_folder, to_user
from libs.common.graph.errors import DeltaExpired, GraphNotFound, GraphPermanentError
from libs.common.graph.models import (
    SELECTS,
    Attachment,
    BatchRequest,
    DeltaResult,
)
from libs.common.mail.errors import MailError
from libs.common.mail.models import (
    DeltaPage,
    DirectoryUser,
    MailFolder,
    MailMessage,
    MessageView,
)


class MailReading(MailboxBase):
    """Reads one mailbox: nothing here changes it."""

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
        cursor: str | None = None,
        *,
        view: MessageView = "full",
        page_size: int = 50,
    ) -> DeltaResult:
        """Changes since ``cursor`` (Graph's delta link; everything when None); an expired
        link resyncs."""
        return _reading.collect(self.iter_delta(folder, cursor, view=view, page_size=page_size))

    def iter_delta(
        self,
        folder: str = "inbox",
        cursor: str | None = None,
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
            if cursor:
                yield from _reading.delta_pages(get_page, cursor, None, page_size)
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

    def get_folder(self, folder: str = "inbox") -> MailFolder:
        """The folder resource (``GET mailFolders/{folder}``): renders no message."""
        return to_folder(
            self._get_json(
                f"{self._user}/mailFolders/{self._folder_ref(folder)}",
                what="get folder",
                params={"$select": ",".join(FOLDER_SELECT)},
            )
        )

    def get_user(self, user: str) -> DirectoryUser:
        """The user's properties. Any 404 means "no such user" here (Graph answers
        ``Request_ResourceNotFound`` or ``ErrorInvalidUser``): :class:`GraphNotFound`."""
        try:
            data = self._get_json(
                f"/users/{quote(user, safe='@')}",
                what="get user",
                params={"$select": ",".join(USER_SELECT)},
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
        return to_user(data)
