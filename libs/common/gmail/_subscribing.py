"""Change subscriptions on a Google mailbox: not served. Gmail's push goes through Cloud
Pub/Sub (``users.watch``), not a notification URL of ours, so a Google mailbox is polled;
the fetcher's subscription keeper never asks (services/fetcher/push_wiring.py), and a caller
that does gets a permanent error that says so."""

from __future__ import annotations

from datetime import datetime

from libs.common.mail.errors import MailPermanentError
from libs.common.mail.models import Subscription

_NOT_SERVED = (
    "Gmail has no change subscriptions to a notification URL: push notifications are "
    "served for Microsoft 365 mailboxes only, a Google mailbox is polled"
)


def _refused() -> MailPermanentError:
    return MailPermanentError(
        _NOT_SERVED,
        code="push_not_supported",
        hint="leave this mailbox out of [push] mailboxes (docs/push.md)",
    )


class GmailSubscribing:
    """The mail port's subscriptions group, refused on Gmail (see the module)."""

    def subscribe(
        self,
        folder: str,
        *,
        notification_url: str,
        lifecycle_url: str,
        client_state: str,
        expires_at: datetime,
    ) -> Subscription:
        raise _refused()

    def renew(self, subscription_id: str, expires_at: datetime) -> Subscription:
        raise _refused()

    def subscription(self, subscription_id: str) -> Subscription:
        raise _refused()

    def reauthorize(self, subscription_id: str) -> None:
        raise _refused()

    def unsubscribe(self, subscription_id: str) -> bool:
        raise _refused()
