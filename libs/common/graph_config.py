"""Where Microsoft Graph and its token authority live: the ``[graph]`` table (also
importable from :mod:`libs.common.settings`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator


class GraphConfig(BaseModel):
    """Where Microsoft Graph and the token authority live (Microsoft's or the simulator's)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = "https://graph.microsoft.com/v1.0"
    authority_host: str = "https://login.microsoftonline.com"
    #: CA bundle for both Graph and the authority; ``None`` uses the system store.
    ca_bundle: Path | None = None
    timeout_s: float = 30.0
    #: Requests in flight per mailbox (Exchange allows 4).
    max_concurrency: int = Field(default=4, ge=1, le=4)
    #: Requests per mailbox per 10 minutes; Exchange allows 10,000, we stay below.
    budget_per_10_min: int = Field(default=9000, ge=1, le=10000)
    #: How long one call may keep retrying throttled or unavailable answers before it gives up
    #: with a retryable error (the broker's retry tiers take over from there).
    max_retry_s: float = Field(default=120.0, gt=0)

    @field_validator("base_url", "authority_host")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("must be an https:// URL (msal accepts only https authorities)")
        return value.rstrip("/")
