"""The pure rules of push (docs/push.md): when a subscription is renewed, when a hint's round
may run.

Renewal: at half of the lifetime Graph granted is left, so a renewal that fails has the other
half to be tried again; never sooner than :data:`MIN_RENEW_S` from now (a subscription granted
for seconds is not renewed in a tight loop). Nothing assumes a maximum lifetime: only the
``expirationDateTime`` Graph returns counts.

Hints: a hint asks for a round at once, but never sooner than :data:`HINT_SPACING_S` after
the mailbox's last hint-asked round; many hints while a round runs are one more round after
it. A flood of hints, forged or not, costs at most one round per mailbox per spacing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

#: Share of the remaining lifetime after which a subscription is renewed.
RENEW_SHARE = 0.5
#: Seconds a renewal waits at least.
MIN_RENEW_S = 30.0
#: Seconds between two hint-asked rounds of one mailbox.
HINT_SPACING_S = 1.0
#: Seconds before a failed subscription is tried again (it doubles, up to the safety interval).
FIRST_RETRY_S = 30.0


def renew_at(now: datetime, expires_at: datetime) -> datetime:
    """When to renew a subscription that expires at ``expires_at``."""
    left = (expires_at - now).total_seconds()
    return now + timedelta(seconds=max(MIN_RENEW_S, left * RENEW_SHARE))


def retry_in(failures: int, ceiling_s: float) -> float:
    """Seconds before subscribing again after ``failures`` failures in a row (≥ 1)."""
    return min(ceiling_s, FIRST_RETRY_S * 2 ** min(failures - 1, 16))


def hurried_due(now: float, due: float, last_hurry: float | None) -> float | None:
    """When a mailbox due at ``due`` runs after a hint at ``now`` (monotonic seconds); None
    when the hint changes nothing (already due as soon)."""
    soonest = now if last_hurry is None else max(now, last_hurry + HINT_SPACING_S)
    return soonest if soonest < due else None


def expiry_refused(status: int | None, message: str) -> bool:
    """Whether the provider refused the asked ``expirationDateTime`` itself (Graph: 400
    ``ExtensionError`` "Subscription expiration can only be … minutes in the future", or
    "expirationDateTime … out of range"), so a shorter lifetime may be accepted."""
    return status == 400 and "expiration" in message.lower()
