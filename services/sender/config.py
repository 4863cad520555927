"""The sender's own settings (environment, prefix ``MAILPIPE_SENDER_``).

They are the sender's alone, so they live here rather than in the shared settings: how fast
fast every sender together may send per mailbox, how big a message may be, and when a claim left
by a dead sender may be taken over.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from libs.common.errors import ConfigError
from services.sender.domain.rate import (
    EXCHANGE_MESSAGES_PER_MINUTE,
    EXCHANGE_WINDOW_S,
    RateLimit,
)


class SenderSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAILPIPE_SENDER_", extra="ignore", frozen=True)

    #: Messages per mailbox in any ``rate_window_s`` (Exchange allows 30 a minute), counted
    #: across every sender on the database (``send_slots``): the limit is not divided by n.
    rate_per_minute: int = Field(default=EXCHANGE_MESSAGES_PER_MINUTE, ge=1)
    #: The window of that limit in seconds (60 for Exchange; shorter in tests).
    rate_window_s: float = Field(default=EXCHANGE_WINDOW_S, gt=0)
    #: Largest encoded message; None: the provider's largest (its ``SendLimits``: Exchange
    #: Online's 150 MiB), though a mailbox's MaxSendSize may be less.
    max_message_bytes: int | None = Field(default=None, ge=1)
    #: A ``sending`` claim not refreshed for this long belongs to a sender that died mid-send
    #: and is taken over (after a look in Sent Items; see docs/sending.md). A live sender
    #: refreshes its claim every ``heartbeat_s``, however long Graph or the rate limit take.
    stale_claim_s: float = Field(default=600.0, gt=0)

    @property
    def rate(self) -> RateLimit:
        return RateLimit(limit=self.rate_per_minute, window_s=self.rate_window_s)

    @property
    def stale_after(self) -> timedelta:
        return timedelta(seconds=self.stale_claim_s)

    @property
    def heartbeat_s(self) -> float:
        """How often a claim in hand is refreshed: four beats fit in one stale time."""
        return self.stale_claim_s / 4


#: Time kept between the stale time and the last retry of a job that waits for a claim.
RETRY_MARGIN_S = 60.0


def check_claim_timing(settings: SenderSettings, retry_delays_s: Sequence[float]) -> None:
    """Refuse a stale time the retry tiers cannot outlast.

    A job whose claim a crashed sender left behind comes back through the retry tiers
    (``job_in_progress``) until the claim is stale; if every tier has passed first, it is
    dead-lettered and never sent. So the stale time must end well before the last retry.
    A live claim cannot go stale however long a send takes (it is refreshed every
    ``heartbeat_s``), so no lower bound beyond that is needed.
    """
    budget = sum(retry_delays_s)
    margin = min(RETRY_MARGIN_S, budget / 4)
    if settings.stale_claim_s > budget - margin:
        raise ConfigError(
            f"MAILPIPE_SENDER_STALE_CLAIM_S={settings.stale_claim_s:g} is not below the retry "
            f"tiers' total of {budget:g} s minus a {margin:g} s margin: a job left by a crashed "
            "sender would be dead-lettered before its claim could be taken over",
            hint=f"set MAILPIPE_SENDER_STALE_CLAIM_S to at most {budget - margin:g}",
        )
