"""How long a subscription is asked to live (docs/push.md, "The subscription keeper").

No maximum is assumed: the keeper asks for the longest of :data:`LIFETIMES` first and uses the
``expirationDateTime`` the provider answers (it may grant less). A provider that refuses the
asked expiry itself (Graph refuses more than its maximum rather than shortening it) is asked
again for the next shorter lifetime; the lifetime that was accepted is asked first from then
on. When even the shortest is refused, :class:`LifetimeRefused` says so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from libs.common.mail import MailPermanentError
from services.fetcher.domain.push import expiry_refused

T = TypeVar("T")

#: The lifetimes asked for, longest first: a week, Graph's documented mail maximum (4,230
#: minutes) less half an hour for a clock ahead of Graph's, a day, an hour.
LIFETIMES = (
    timedelta(days=7),
    timedelta(minutes=4200),
    timedelta(days=1),
    timedelta(hours=1),
)


class LifetimeRefused(MailPermanentError):
    """The provider refused every subscription lifetime asked for, down to an hour."""

    code = "lifetime_refused"


class Lifetimes:
    """The lifetime to ask for next, stepping down on a refused expiry (one per keeper)."""

    def __init__(self, lifetimes: tuple[timedelta, ...] = LIFETIMES) -> None:
        self._lifetimes = lifetimes
        self._at = 0

    @property
    def asked(self) -> timedelta:
        return self._lifetimes[self._at]

    def ask(self, now: datetime, call: Callable[[datetime], T]) -> T:
        """``call(expires_at)`` with the remembered lifetime, shorter ones while the provider
        refuses the expiry; :class:`LifetimeRefused` when it refuses them all."""
        while True:
            try:
                return call(now + self.asked)
            except MailPermanentError as exc:
                if not expiry_refused(exc.status, exc.message):
                    raise
                if self._at + 1 == len(self._lifetimes):
                    raise LifetimeRefused(
                        f"the mail provider refused every subscription lifetime down to "
                        f"{self.asked}: {exc.message}",
                        hint="check the server's clock (an expiry it thinks past is refused)",
                    ) from exc
                self._at += 1
