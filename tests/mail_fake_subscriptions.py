"""The mail fake's change subscriptions (``libs.common.mail.MailSubscriptions``), kept as the
Graph adapter keeps them: the provider grants at most ``max_lifetime`` whatever is asked (or,
with ``refuse_beyond``, refuses a longer ask with Graph's 400 as Graph does for mail), an
unknown subscription is ``MailNotFound``, a refused one (``refuse_with``) a permanent error.
``tests/mail_fake.py``'s ``FakeMailbox`` is one of these."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from libs.common.mail import MailNotFound, MailPermanentError, Subscription

_IDS = itertools.count(1)

#: Graph's documented maximum for message subscriptions without resource data.
MAX_LIFETIME = timedelta(minutes=4230)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class FakeSubscription:
    id: str
    folder: str
    notification_url: str
    lifecycle_url: str
    client_state: str
    expires_at: datetime
    reauthorized: int = 0


class SubscriptionRefused(MailPermanentError):
    """What Graph answers when it cannot validate the notification URL (400)."""

    code = "ValidationError"


@dataclass
class FakeSubscriptions:
    """Subscriptions by id; ``calls`` lists what was asked, in order (``subscribe:<id>`` …)."""

    subscriptions: dict[str, FakeSubscription] = field(default_factory=dict)
    max_lifetime: timedelta = MAX_LIFETIME
    #: Refuse an expiry beyond ``max_lifetime`` (Graph's 400) instead of granting less.
    refuse_beyond: bool = False
    #: The next subscribe calls raise these (one each).
    refuse_with: list[Exception] = field(default_factory=list)
    #: The next renew calls raise these (one each).
    renew_fails_with: list[Exception] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    now: Callable[[], datetime] = utcnow

    def subscribe(
        self,
        folder: str,
        *,
        notification_url: str,
        lifecycle_url: str,
        client_state: str,
        expires_at: datetime,
    ) -> Subscription:
        if self.refuse_with:
            raise self.refuse_with.pop(0)
        sub_id = f"sub-{next(_IDS)}"  # unique across mailboxes, as Graph's are
        granted = self._granted(expires_at)
        self.subscriptions[sub_id] = FakeSubscription(
            sub_id, folder, notification_url, lifecycle_url, client_state, granted
        )
        self.calls.append(f"subscribe:{sub_id}")
        return Subscription(sub_id, granted)

    def renew(self, subscription_id: str, expires_at: datetime) -> Subscription:
        if self.renew_fails_with:
            self.calls.append(f"renew-failed:{subscription_id}")
            raise self.renew_fails_with.pop(0)
        sub = self._known(subscription_id)
        sub.expires_at = self._granted(expires_at)
        self.calls.append(f"renew:{subscription_id}")
        return Subscription(sub.id, sub.expires_at)

    def subscription(self, subscription_id: str) -> Subscription:
        sub = self._known(subscription_id)
        self.calls.append(f"read:{subscription_id}")
        return Subscription(sub.id, sub.expires_at)

    def reauthorize(self, subscription_id: str) -> None:
        self._known(subscription_id).reauthorized += 1
        self.calls.append(f"reauthorize:{subscription_id}")

    def unsubscribe(self, subscription_id: str) -> bool:
        self.calls.append(f"unsubscribe:{subscription_id}")
        return self.subscriptions.pop(subscription_id, None) is not None

    # -- what tests do as the provider ---------------------------------------------------

    def remove_subscription(self, subscription_id: str) -> None:
        """The provider dropped it (``subscriptionRemoved``): renewing it is now not found."""
        del self.subscriptions[subscription_id]

    def _known(self, subscription_id: str) -> FakeSubscription:
        sub = self.subscriptions.get(subscription_id)
        if sub is None or sub.expires_at <= self.now():
            self.subscriptions.pop(subscription_id, None)
            raise MailNotFound(f"subscription {subscription_id} not found")
        return sub

    def _granted(self, asked: datetime) -> datetime:
        longest = self.now() + self.max_lifetime
        if self.refuse_beyond and asked > longest:
            minutes = int(self.max_lifetime.total_seconds() // 60)
            refused = MailPermanentError(
                f"Subscription expiration can only be {minutes} minutes in the future.",
                code="ExtensionError",
            )
            refused.status = 400
            self.calls.append("refused:expiry")
            raise refused
        return min(asked, longest)
