"""When to try a provider request again, and how long to wait first. Pure functions, shared by
the Microsoft Graph and Gmail adapters."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded by a total time budget.

    ``Retry-After`` from the provider always wins over the computed backoff (waiting less would only
    earn another 429). Once the next wait would end past ``budget_s`` after the first
    attempt, the last retryable error is raised to the caller.
    """

    base_s: float = 0.5
    cap_s: float = 30.0
    budget_s: float = 120.0
    #: A server-sent Retry-After above this is clamped, so one bad header cannot stall us.
    max_retry_after_s: float = 120.0

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Wait before retry number ``attempt`` (1-based): half fixed, half random."""
        ceiling = min(self.cap_s, self.base_s * (2 ** max(attempt - 1, 0)))
        return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)

    def delay(self, attempt: int, retry_after_s: float | None) -> float:
        if retry_after_s is not None:
            return min(max(retry_after_s, 0.0), self.max_retry_after_s)
        return self.backoff(attempt)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)
