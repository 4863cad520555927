"""Change-notification subscriptions as plain data: what one watches, when it ends, and the
JSON Graph shows for it and posts to its endpoints. No HTTP here (see :mod:`notify`)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from libs.graphsim.errors import GraphHTTPError
from libs.graphsim.state import HIDDEN, Folder, Mailbox, Message

CHANGE_TYPES = frozenset({"created", "updated", "deleted"})
LIFECYCLE_EVENTS = ("reauthorizationRequired", "subscriptionRemoved", "missed")
MAX_CLIENT_STATE = 128

# users/{u}/messages, users/{u}/mailFolders('{f}')/messages, users/{u}/mailFolders/{f}/messages
_RESOURCE = re.compile(
    r"^/?(?P<root>users|me)(?:/(?P<user>[^/]+))?"
    r"(?:/mailfolders(?:\('(?P<quoted>[^']*)'\)|/(?P<folder>[^/]+)))?/messages/?$",
    re.I,
)
# Graph writes seven fractional digits; Python's isoformat has six.
_FRACTION = re.compile(r"(\.\d{6})\d+")


def invalid(message: str) -> GraphHTTPError:
    return GraphHTTPError(400, "InvalidRequest", message)


@dataclass
class Subscription:
    id: str
    tenant_id: str
    application_id: str
    creator_id: str
    user_id: str
    #: The watched folder's id; ``None`` watches every visible folder (``users/{u}/messages``).
    folder_id: str | None
    resource: str
    change_types: frozenset[str]
    change_type: str
    notification_url: str
    lifecycle_url: str | None
    expires: dt.datetime
    client_state: str | None = field(repr=False)
    tls_version: str | None
    #: Created with ``Prefer: IdType="ImmutableId"``: notifications carry immutable ids.
    immutable: bool
    needs_reauthorization: bool = False

    def alive(self, now: dt.datetime | None = None) -> bool:
        return self.expires > (now or dt.datetime.now(dt.UTC))

    def watches(self, box: Mailbox, folder: Folder, change: str) -> bool:
        if box.user_id != self.user_id or change not in self.change_types:
            return False
        if self.folder_id is None:
            return folder.well_known not in HIDDEN
        return folder.id == self.folder_id


def parse_resource(resource: str) -> tuple[str, str | None]:
    """(user id or address, folder reference or ``None``) that a resource names."""
    found = _RESOURCE.match(resource.strip())
    if found is None:
        raise invalid(f"Resource '{resource}' is not supported for message subscriptions.")
    if found["root"].lower() == "me" or not found["user"]:
        raise GraphHTTPError(
            400, "BadRequest", "/me request is only valid with delegated authentication flow."
        )
    return found["user"], found["quoted"] or found["folder"]


def parse_change_types(value: Any) -> frozenset[str]:
    kinds = frozenset(k.strip().lower() for k in str(value or "").split(",") if k.strip())
    if not kinds or not kinds <= CHANGE_TYPES:
        raise invalid(f"Invalid changeType '{value}'; use created, updated, deleted.")
    return kinds


def parse_expiration(value: Any, max_minutes: int, clamp: bool = False) -> dt.datetime:
    """The requested end, checked against now and the longest lifetime, as Graph checks it
    (``clamp``: one beyond the longest is shortened to it rather than refused)."""
    try:
        when = dt.datetime.fromisoformat(_FRACTION.sub(r"\1", str(value)).replace("Z", "+00:00"))
    except ValueError:
        raise invalid("expirationDateTime must be an ISO 8601 date-time.") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = dt.datetime.now(dt.UTC)
    if when <= now:
        raise GraphHTTPError(
            400, "ExtensionError", "Subscription expiration can only be in the future."
        )
    if when > now + dt.timedelta(minutes=max_minutes):
        if clamp:
            return now + dt.timedelta(minutes=max_minutes)
        raise GraphHTTPError(
            400,
            "ExtensionError",
            f"Subscription expiration can only be {max_minutes} minutes in the future.",
        )
    return when.astimezone(dt.UTC)


def graph_time(when: dt.datetime) -> str:
    """Graph's own spelling: UTC with seven fractional digits."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def as_json(sub: Subscription) -> dict[str, Any]:
    return {
        "id": sub.id,
        "resource": sub.resource,
        "applicationId": sub.application_id,
        "changeType": sub.change_type,
        "clientState": sub.client_state,
        "notificationUrl": sub.notification_url,
        "notificationQueryOptions": None,
        "lifecycleNotificationUrl": sub.lifecycle_url,
        "expirationDateTime": graph_time(sub.expires),
        "creatorId": sub.creator_id,
        "includeResourceData": False,
        "latestSupportedTlsVersion": sub.tls_version,
        "encryptionCertificate": None,
        "encryptionCertificateId": None,
        "notificationUrlAppId": None,
    }


def change_item(sub: Subscription, msg: Message, change: str) -> dict[str, Any]:
    """One change notification as Graph posts it (without resource data)."""
    msg_id = msg.immutable_id if sub.immutable else msg.rest_id
    path = f"Users/{sub.user_id}/Messages/{msg_id}"
    return {
        "subscriptionId": sub.id,
        "subscriptionExpirationDateTime": graph_time(sub.expires),
        "changeType": change,
        "resource": path,
        "resourceData": {
            "@odata.type": "#Microsoft.Graph.Message",
            "@odata.id": path,
            "@odata.etag": f'W/"{msg.change_key}"',
            "id": msg_id,
        },
        "clientState": sub.client_state,
        "tenantId": sub.tenant_id,
    }


def lifecycle_item(sub: Subscription, event: str) -> dict[str, Any]:
    return {
        "subscriptionId": sub.id,
        "subscriptionExpirationDateTime": graph_time(sub.expires),
        "tenantId": sub.tenant_id,
        "clientState": sub.client_state,
        "lifecycleEvent": event,
    }


def prune(subs: dict[str, Subscription]) -> None:
    """Expired subscriptions are gone, as in Graph: they stop notifying and are 404."""
    now = dt.datetime.now(dt.UTC)
    for sub_id in [s.id for s in subs.values() if not s.alive(now)]:
        del subs[sub_id]
