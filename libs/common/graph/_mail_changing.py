"""GraphMail's changes to messages: delete, move and copy, one by one or by ``$batch``."""

from __future__ import annotations

from collections.abc import Iterable

from libs.common.graph._mailbox_base import MailboxBase
from libs.common.graph.errors import GraphNotFound
from libs.common.graph.models import BatchOutcome, BatchRequest


class MailChanging(MailboxBase):
    """Deletes, moves and copies one mailbox's messages."""

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
