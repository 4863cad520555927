"""What Graph POSTs to the notification endpoint, read strictly (docs/push.md).

Change notifications: ``{"value": [{"subscriptionId", "clientState", "changeType", ...}]}``;
lifecycle notifications: the same with ``lifecycleEvent`` instead of ``changeType``. Anyone can
POST to a public URL, so nothing here is trusted: a body that is not that shape is
:class:`Malformed`, and even a well-formed one is only a claim the endpoint checks
(subscription known, clientState right) before it publishes a hint, which itself only makes the
fetcher look at the mailbox.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

#: Largest body read: Graph batches notifications, a few hundred bytes each.
MAX_BODY_BYTES = 256 * 1024
#: Most notifications one body may hold.
MAX_ITEMS = 1000
#: Longest validation token echoed (Graph's are some hundred characters).
MAX_TOKEN_CHARS = 2048
#: Longest subscription id or clientState looked at (Graph's clientState: 128 characters).
MAX_FIELD_CHARS = 255

Reason = Literal["created", "missed", "removed", "reauthorize"]

#: Lifecycle event → what the fetcher is told.
_LIFECYCLE: dict[str, Reason] = {
    "missed": "missed",
    "subscriptionRemoved": "removed",
    "reauthorizationRequired": "reauthorize",
}


class Malformed(ValueError):
    """Not a notification body; the message says what, without echoing the body."""


@dataclass(frozen=True)
class Notification:
    subscription_id: str
    client_state: str
    reason: Reason

    def __repr__(self) -> str:  # the clientState is a secret
        return f"Notification({self.subscription_id!r}, {self.reason!r})"


def parse(body: bytes, *, lifecycle: bool) -> list[Notification]:
    """The notifications of one body; :class:`Malformed` when it is not one. Items of a
    change type or lifecycle event we never subscribe to are left out."""
    if len(body) > MAX_BODY_BYTES:
        raise Malformed("body too large")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise Malformed("not JSON") from None
    items = data.get("value") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items or len(items) > MAX_ITEMS:
        raise Malformed("no 'value' list of notifications")
    found = [_item(item, lifecycle) for item in items]
    return [n for n in found if n is not None]


def _item(item: Any, lifecycle: bool) -> Notification | None:
    if not isinstance(item, dict):
        raise Malformed("a notification is not an object")
    sub_id, state = _text(item, "subscriptionId"), _text(item, "clientState")
    if lifecycle:
        reason = _LIFECYCLE.get(_text(item, "lifecycleEvent"))
    else:
        reason = "created" if _text(item, "changeType") == "created" else None
    return None if reason is None else Notification(sub_id, state, reason)


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value or len(value) > MAX_FIELD_CHARS:
        raise Malformed(f"'{key}' missing or not a short string")
    return value


def validation_token(raw: str | None) -> str | None:
    """The token to echo for Graph's validation handshake, or None when the request is not
    one. Served as text/plain (never HTML), so it is echoed as given; only its length and
    control characters are refused (:class:`Malformed`)."""
    if raw is None:
        return None
    if not raw or len(raw) > MAX_TOKEN_CHARS or any(ord(c) < 32 or ord(c) == 127 for c in raw):
        raise Malformed("validation token empty, too long or with control characters")
    return raw
