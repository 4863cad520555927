"""GraphMail's change subscriptions (``/subscriptions``, docs/push.md): new mail in a folder,
notified without resource data; the notification only says "look", a delta round reads."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from libs.common.graph._mailbox_base import MailboxBase
from libs.common.graph.errors import GraphNotFound, GraphPermanentError
from libs.common.mail.models import Subscription


class MailSubscribing(MailboxBase):
    """Creates, renews, reauthorizes and deletes one mailbox's subscriptions."""

    def subscribe(
        self,
        folder: str,
        *,
        notification_url: str,
        lifecycle_url: str,
        client_state: str,
        expires_at: datetime,
    ) -> Subscription:
        # Graph validates notification_url before answering (its 10 s handshake); a URL it
        # cannot reach is a 400 ValidationError, a permanent error the keeper reports.
        body = {
            "changeType": "created",
            "notificationUrl": notification_url,
            "lifecycleNotificationUrl": lifecycle_url,
            "resource": f"{self._user.lstrip('/')}/mailFolders('{self._folder_key(folder)}')"
            "/messages",
            "expirationDateTime": _graph_time(expires_at),
            "clientState": client_state,
        }
        answer = self._http.request(
            "POST", "/subscriptions", what="create subscription", json=body, idempotent=False
        )
        return _subscription(answer.json())

    def renew(self, subscription_id: str, expires_at: datetime) -> Subscription:
        body = {"expirationDateTime": _graph_time(expires_at)}
        answer = self._on_subscription("PATCH", subscription_id, "", "renew", body)
        return _subscription(answer.json())

    def subscription(self, subscription_id: str) -> Subscription:
        return _subscription(self._on_subscription("GET", subscription_id, "", "read").json())

    def reauthorize(self, subscription_id: str) -> None:
        self._on_subscription("POST", subscription_id, "/reauthorize", "reauthorize")

    def unsubscribe(self, subscription_id: str) -> bool:
        try:
            self._on_subscription("DELETE", subscription_id, "", "delete")
        except GraphNotFound:
            return False
        return True

    def _on_subscription(
        self, method: str, sub_id: str, suffix: str, verb: str, body: Any = None
    ) -> httpx.Response:
        """A request on one subscription. Graph says 404 ``ResourceNotFound`` for one it no
        longer knows, which elsewhere speaks of the mailbox: here it is the subscription."""
        path = f"/subscriptions/{quote(sub_id, safe='')}{suffix}"
        try:
            return self._http.request(method, path, what=f"{verb} subscription", json=body)
        except GraphPermanentError as exc:
            if exc.status != 404 or isinstance(exc, GraphNotFound):
                raise
            hint = "the subscription is gone; the fetcher creates a new one"
            raise GraphNotFound(exc.message, hint=hint, status=404, code=exc.code) from None

    def _folder_key(self, folder: str) -> str:
        # A well-known name as is; a display name becomes its id (never created here).
        return self.folder_id(folder, create=False).replace("'", "''")


def _graph_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def _subscription(data: Any) -> Subscription:
    """The id and the expiry Graph granted (it may grant less than asked)."""
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise ValueError("Graph answered a subscription without an id")
    expiry = str(data.get("expirationDateTime") or "")
    return Subscription(id=data["id"], expires_at=parse_graph_time(expiry))


def parse_graph_time(text: str) -> datetime:
    """Graph's ``2026-12-03T10:00:00.0000000Z`` (seven fraction digits) as an aware datetime;
    a malformed one is a ValueError."""
    when = datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", text.strip()))
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
