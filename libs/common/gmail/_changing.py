"""GmailMail's changes: remove = trash (kept 30 days, Gmail's Recoverable Items), move and
copy = labels. A message keeps its id when moved or copied: a copy is the same message under
one more label."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from libs.common.gmail._base import ME, GmailBase
from libs.common.gmail._batch import Call
from libs.common.mail.errors import MailError, MailNotFound
from libs.common.mail.models import BatchOutcome

#: Ids per ``batchModify`` (Gmail takes 1000).
MODIFY_CHUNK = 1000


def _outcome(mid: str, status: int, error: MailError | None) -> BatchOutcome:
    if error is None:
        return BatchOutcome(mid, status, "ok", {"id": mid})
    if isinstance(error, MailNotFound):
        return BatchOutcome(mid, status, "not_found", error=error)
    return BatchOutcome(mid, status, "error", error=error)


class GmailChanging(GmailBase):
    """Trashes and relabels one mailbox's messages."""

    def delete(self, message_id: str) -> bool:
        """Into the trash. False when it was already gone (or in the trash: Gmail trashes a
        message twice without a word, so one cheap read tells)."""
        path = f"{ME}/messages/{quote(message_id, safe='')}"
        self._recent.forget(message_id)
        try:
            seen = self._http.request(
                "GET", path, what="messages.get", params={"format": "minimal"}
            ).json()
            if "TRASH" in seen.get("labelIds", []):
                return False
            self._http.request("POST", path + "/trash", what="messages.trash")
        except MailNotFound:
            return False
        return True

    def _folder_labels(self, target: str) -> list[str]:
        """The labels a move takes off: the mailbox's folders (inbox, the watched one, the
        quarantine, the move and copy targets) that exist, except the target."""
        names = {"inbox", self._box.folder, self._box.quarantine_folder}
        action = self._box.after_processing_action
        names.add(getattr(action, "folder", None) or "inbox")
        out = []
        for name in names:
            try:
                out.append(self.label_id(name, create=False))
            except MailNotFound:
                continue
        return sorted({lb for lb in out if lb != target})

    def _change(self, message_id: str, add: list[str], remove: list[str]) -> str:
        self._http.request(
            "POST",
            f"{ME}/messages/{quote(message_id, safe='')}/modify",
            what="messages.modify",
            json={"addLabelIds": add, "removeLabelIds": remove},
        )
        return message_id

    def move(self, message_id: str, folder: str) -> str:
        """Put the folder's label on and take the other folders' off; the id stays."""
        target = self.label_id(folder)
        return self._change(message_id, [target], self._folder_labels(target))

    def copy(self, message_id: str, folder: str) -> str:
        """Put the folder's label on; the message stays where it is (same id)."""
        return self._change(message_id, [self.label_id(folder)], [])

    def delete_many(self, message_ids: Iterable[str]) -> dict[str, BatchOutcome]:
        """Trash by the batch endpoint; ``not_found`` per message that no longer exists. One
        already in the trash is trashed again and ``ok``: done either way, and telling the two
        apart would cost a read (5 units) per message on the fetcher's busiest path."""
        ids = list(dict.fromkeys(message_ids))
        for mid in ids:
            self._recent.forget(mid)
        calls = [
            Call("POST", f"{ME}/messages/{quote(mid, safe='')}/trash", "messages.trash")
            for mid in ids
        ]
        answers = self.batch(calls)
        return {mid: _outcome(mid, a.status, a.error) for mid, a in zip(ids, answers, strict=True)}

    def move_many(self, message_ids: Iterable[str], folder: str) -> dict[str, BatchOutcome]:
        target = self.label_id(folder)
        return self._modify_many(message_ids, [target], self._folder_labels(target))

    def copy_many(self, message_ids: Iterable[str], folder: str) -> dict[str, BatchOutcome]:
        return self._modify_many(message_ids, [self.label_id(folder)], [])

    def _modify_many(
        self, message_ids: Iterable[str], add: list[str], remove: list[str]
    ) -> dict[str, BatchOutcome]:
        """``batchModify`` (50 units per 1000 ids). Gmail skips an unknown id silently, so a
        gone message is ``ok`` here: done either way."""
        ids = list(dict.fromkeys(message_ids))
        for start in range(0, len(ids), MODIFY_CHUNK):
            body = {"ids": ids[start : start + MODIFY_CHUNK], "addLabelIds": add}
            body["removeLabelIds"] = remove
            self._http.request(
                "POST", f"{ME}/messages/batchModify", what="messages.batchModify", json=body
            )
        return {mid: _outcome(mid, 204, None) for mid in ids}
