"""MailboxProbe: the read-only calls (plus one throw-away draft) that check a mailbox's setup.

``mailpipe doctor`` uses it to exercise each setup step with a harmless request: a fresh
token (its ``roles`` claim shows the consented application permissions), one message id,
a folder looked up without creating it, a draft created and purged at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from libs.common.graph.auth import TokenSource
from libs.common.graph.errors import GraphNotFound
from libs.common.graph.mail import GraphMail
from libs.common.settings import GraphConfig, MailboxConfig


class MailboxProbe(GraphMail):
    """:class:`GraphMail` plus the calls a setup check needs and the services do not."""

    def __init__(self, graph: GraphConfig, mailbox: MailboxConfig) -> None:
        self._token_source = TokenSource(graph, mailbox)
        super().__init__(graph, mailbox, tokens=self._token_source)

    def fresh_token(self) -> str:
        """A token straight from the authority, never msal's cached one: the check must see
        the credential and the consented permissions as they are now."""
        self._token_source.invalidate()
        return self._token_source.token()

    def first_message_id(self, folder: str = "inbox") -> str | None:
        """The id of one message of ``folder`` (``$top=1``, ``$select=id``), or None."""
        return next((m.id for m in self.iter_messages(folder, view="id", top=1)), None)

    def find_folder(self, name: str) -> str | None:
        """The folder's id (a well-known name as is), or None; never creates it."""
        try:
            return self.folder_id(name, create=False)
        except GraphNotFound:
            return None

    def create_draft(self, message: Mapping[str, Any]) -> str:
        """A draft from Graph ``message`` JSON (``from`` included) in Drafts; its id."""
        # Not retried after a timeout: a second draft would be left behind.
        response = self._http.request(
            "POST",
            f"{self._user}/messages",
            what="create draft",
            json=dict(message),
            idempotent=False,
        )
        return str(response.json()["id"])

    def permanent_delete(self, message_id: str) -> bool:
        """Purge a message (no copy in Recoverable Items). False when it was already gone."""
        try:
            self._http.request(
                "POST",
                f"{self._user}/messages/{quote(message_id, safe='')}/permanentDelete",
                what="permanently delete message",
            )
        except GraphNotFound:
            return False
        return True
