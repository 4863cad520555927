"""The sender's own settings (environment, prefix ``MAILPIPE_SENDER_``).

They are the sender's alone, so they live here rather than in the shared settings: how fast
one sender process may send per mailbox, how big a message may be, and when a claim left
by a dead sender may be taken over.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.sender.domain.rate import EXCHANGE_MESSAGES_PER_MINUTE
from services.sender.domain.sizing import DEFAULT_MAX_MESSAGE_BYTES


class SenderSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAILPIPE_SENDER_", extra="ignore", frozen=True)

    #: Messages per minute per mailbox this process sends (Exchange allows 30 per mailbox:
    #: with n senders on one mailbox, give each 30 / n, or let Graph's 429 + retry absorb it).
    rate_per_minute: int = Field(default=EXCHANGE_MESSAGES_PER_MINUTE, ge=1)
    #: Largest encoded message (Exchange Online's ceiling; a mailbox's MaxSendSize may be less).
    max_message_bytes: int = Field(default=DEFAULT_MAX_MESSAGE_BYTES, ge=1)
    #: A ``sending`` claim older than this belongs to a sender that died mid-send and is taken
    #: over (the only way a job can be sent twice; see docs/sending.md).
    stale_claim_s: float = Field(default=600.0, gt=0)

    @property
    def stale_after(self) -> timedelta:
        return timedelta(seconds=self.stale_claim_s)
