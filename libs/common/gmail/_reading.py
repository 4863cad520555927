"""GmailMail's reading: listings, changes since a history id, messages (raw MIME, parsed
once), attachments, a label's counts. Nothing here changes the mailbox."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote

from libs.common.gmail import _convert
from libs.common.gmail._base import ME, GmailBase
from libs.common.gmail._batch import Call
from libs.common.gmail._history import changes_of
from libs.common.mail.errors import CursorExpired, MailError, MailNotFound
from libs.common.mail.models import (
    Attachment,
    DeltaPage,
    DeltaResult,
    MailFolder,
    MailMessage,
    MessageView,
)


def in_trash(address: str, message_id: str) -> MailNotFound:
    err = MailNotFound(
        f"gmail message {message_id} of {address} is in the trash",
        code="not_found",
        hint="it was removed; Gmail keeps it in the trash for 30 days",
    )
    err.status = 404
    return err


#: Ids per ``messages.list`` call of a full listing (Gmail's largest page: 5 units each).
LIST_PAGE = 500


class GmailReading(GmailBase):
    """Reads one mailbox."""

    def _raw_call(self, message_id: str) -> Call:
        return Call("GET", f"{ME}/messages/{quote(message_id, safe='')}?format=raw", "messages.get")

    def _raw(self, message_id: str, *, cached: bool = False) -> dict[str, Any]:
        """The ``format=raw`` resource (``cached``: the one just read, if any); a message in
        the trash is gone, as a deleted one is on Graph (kept 30 days, like Recoverable
        Items)."""
        resource = self._recent.get(message_id) if cached else None
        if resource is None:
            path = f"/messages/{quote(message_id, safe='')}"
            resource = self._get(path, what="messages.get", format="raw")
        if "TRASH" in resource.get("labelIds", []):
            self._recent.forget(message_id)
            raise in_trash(self.address, message_id)
        self._recent.put(message_id, resource)
        return resource

    def get_message(self, message_id: str, *, view: MessageView = "full") -> MailMessage:
        return _convert.to_message(self._raw(message_id), full=view == "full")

    def get_mime(self, message_id: str) -> bytes:
        return _convert.raw_of(self._raw(message_id, cached=True))

    def get_attachments(self, message_id: str) -> list[Attachment]:
        return _convert.attachments_of(self.get_mime(message_id))

    def _raw_many(
        self, message_ids: Iterable[str], *, cached: bool = False
    ) -> dict[str, dict[str, Any] | MailError]:
        """Per id the raw resource or its error (``cached``: those just read from memory)."""
        out: dict[str, dict[str, Any] | MailError] = {}
        ids = []
        for mid in dict.fromkeys(message_ids):
            found = self._recent.get(mid) if cached else None
            if found is not None:
                out[mid] = found
            else:
                ids.append(mid)
        answers = self.batch([self._raw_call(mid) for mid in ids]) if ids else []
        for mid, answer in zip(ids, answers, strict=True):
            if answer.error is not None and answer.status == 401:
                raise answer.error  # a refused token is no message's fault
            body = dict(answer.body or {})
            if answer.error is None and "TRASH" in body.get("labelIds", []):
                out[mid] = in_trash(self.address, mid)
            elif answer.error is not None:
                out[mid] = answer.error
            else:
                out[mid] = body
                self._recent.put(mid, body)
        return {mid: out[mid] for mid in dict.fromkeys(message_ids)}

    def get_messages_many(
        self, message_ids: Iterable[str], *, view: MessageView = "full"
    ) -> dict[str, MailMessage | MailError]:
        """Per id (input order, duplicates once) the message or its error, by batches of 50."""
        return {
            mid: got
            if isinstance(got, MailError)
            else _convert.to_message(got, full=view == "full")
            for mid, got in self._raw_many(message_ids).items()
        }

    def get_attachments_many(
        self, message_ids: Iterable[str]
    ) -> dict[str, list[Attachment] | MailError]:
        return {
            mid: got
            if isinstance(got, MailError)
            else _convert.attachments_of(_convert.raw_of(got))
            for mid, got in self._raw_many(message_ids, cached=True).items()
        }

    def _views(self, ids: list[str], view: MessageView) -> list[MailMessage]:
        """The messages of ``ids`` as ``view`` asks; those gone meanwhile left out."""
        if view == "id":
            return [MailMessage(mid) for mid in ids]
        got = self.get_messages_many(ids, view=view)
        for item in got.values():
            if isinstance(item, MailError) and not isinstance(item, MailNotFound):
                raise item
        return [m for m in got.values() if isinstance(m, MailMessage)]

    def _id_pages(self, label: str | None, size: int) -> Iterator[tuple[list[str], bool]]:
        """The ids of a label's messages (all mail when None), page by page, newest first;
        with True on the last page."""
        token = None
        while True:
            params: dict[str, str] = {"maxResults": str(min(max(size, 1), 500))}
            if label:
                params["labelIds"] = label
            if token:
                params["pageToken"] = token
            page = self._get("/messages", what="messages.list", **params)
            token = page.get("nextPageToken")
            yield [str(m["id"]) for m in page.get("messages", [])], not token
            if not token:
                return

    def iter_messages(
        self, folder: str | None = "inbox", *, view: MessageView = "summary", top: int = 50
    ) -> Iterator[MailMessage]:
        label = None if folder is None else self.label_id(folder, create=False)
        for ids, _ in self._id_pages(label, top):
            yield from self._views(ids, view)

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
        messages: list[MailMessage] = []
        removed: list[str] = []
        for page in self.iter_delta(folder, cursor, view=view, page_size=page_size):
            messages.extend(page.messages)
            removed.extend(page.removed)
            if page.cursor is not None:
                return DeltaResult(messages, removed, page.cursor, page.resynced)
        raise AssertionError("iter_delta ends with a cursor")  # _history / _full always do

    def iter_delta(
        self,
        folder: str = "inbox",
        cursor: str | None = None,
        *,
        view: MessageView = "full",
        page_size: int = 50,
    ) -> Iterator[DeltaPage]:
        """Changes since ``cursor`` (a history id) by ``users.history.list``; everything
        (``messages.list`` of the label) when None or when Gmail no longer has that history
        (404, after about a week): then the pages are ``resynced``. The cursor is the
        mailbox's history id read before the listing, so nothing falls between rounds."""
        label = self.label_id(folder, create=False)
        if cursor:
            try:
                yield from self._history(label, cursor, view, page_size)
                return
            except CursorExpired:
                pass
        yield from self._full(label, view, page_size, resynced=bool(cursor))

    def _full(
        self, label: str, view: MessageView, size: int, *, resynced: bool
    ) -> Iterator[DeltaPage]:
        start = str(self._get("/profile", what="profile")["historyId"])
        # Every id first, then the pages: the caller trashes a page's mail before it asks for
        # the next, and a page token that counts positions would then skip as many (the mail
        # would stay in the inbox, as history only tells what changed after ``start``).
        ids = [i for page, _ in self._id_pages(label, LIST_PAGE) for i in page]
        size = max(size, 1)
        for at in range(0, max(len(ids), 1), size):
            last = at + size >= len(ids)
            yield DeltaPage(
                self._views(ids[at : at + size], view), [], start if last else None, resynced
            )

    def _history(
        self, label: str, cursor: str, view: MessageView, size: int
    ) -> Iterator[DeltaPage]:
        token = None
        while True:
            params = {"startHistoryId": cursor, "maxResults": str(min(max(size, 1), 500))}
            if token:
                params["pageToken"] = token
            try:
                page = self._get("/history", what="history.list", **params)
            except MailNotFound:
                raise CursorExpired(f"gmail history {cursor} of {self.address} expired") from None
            token = page.get("nextPageToken")
            added, removed = changes_of(page.get("history", []), label)
            messages = self._views(added, view)
            gone = set(added) - {m.id for m in messages}
            cursor_out = None if token else str(page["historyId"])
            yield DeltaPage(messages, removed + sorted(gone), cursor_out)
            if not token:
                return

    def get_folder(self, folder: str = "inbox") -> MailFolder:
        """The label's counts (``labels.get``): reads no message."""
        label = self.label_id(folder, create=False)
        data = self._get(f"/labels/{quote(label, safe='')}", what="labels.get")
        total = data.get("messagesTotal")
        return MailFolder(str(data.get("id", label)), data.get("name"), total)
