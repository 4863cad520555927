"""Sign-in throttling: too many failures for one username, or from one client address."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ThrottlePolicy:
    per_username: int = 5
    per_client: int = 20
    window: timedelta = timedelta(minutes=15)


def _wait(failures: Sequence[datetime], limit: int, now: datetime, window: timedelta) -> timedelta:
    recent = sorted(at for at in failures if at > now - window)
    if len(recent) < limit:
        return timedelta(0)
    # Attempts resume when enough of the recent failures have left the window.
    return recent[len(recent) - limit] + window - now


def throttle_wait(
    by_username: Sequence[datetime],
    by_client: Sequence[datetime],
    now: datetime,
    policy: ThrottlePolicy = ThrottlePolicy(),
) -> timedelta | None:
    """How long sign-ins stay refused given the failures seen; ``None`` when they are allowed."""
    wait = max(
        _wait(by_username, policy.per_username, now, policy.window),
        _wait(by_client, policy.per_client, now, policy.window),
    )
    return wait if wait > timedelta(0) else None


def throttled_message(wait: timedelta) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-ins; try again in {minutes} {unit}."
