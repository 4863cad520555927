"""The reminder of a secret's or certificate's expiry: a warning within 30 days, an error on
and after the day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

WARN_DAYS = 30


@dataclass(frozen=True)
class Reminder:
    level: Literal["warning", "error"]
    message: str


def reminder(expires_on: date | None, today: date) -> Reminder | None:
    """What to say about a credential expiring on ``expires_on`` (None: nothing to say)."""
    if expires_on is None:
        return None
    days = (expires_on - today).days
    renew = "make a new one in Entra (Certificates & secrets) and paste it here"
    if days < 0:
        return Reminder("error", f"expired on {expires_on}: {renew}")
    if days == 0:
        return Reminder("error", f"expires today ({expires_on}): {renew}")
    if days <= WARN_DAYS:
        return Reminder(
            "warning", f"expires in {days} day{'s' * (days > 1)} ({expires_on}): {renew}"
        )
    return None
