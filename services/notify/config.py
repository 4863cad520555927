"""The notification endpoint's own settings (environment, prefix ``MAILPIPE_NOTIFY_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAILPIPE_NOTIFY_", extra="ignore", frozen=True)

    #: Where the endpoint listens; the operator's HTTPS proxy forwards ``[push] public_url``
    #: here. Loopback by default: nothing reaches it but through the proxy.
    host: str = "127.0.0.1"
    port: int = Field(default=8026, ge=0, le=65535)
    #: Proxies whose X-Forwarded-* headers are believed (for the access log's addresses).
    forwarded_allow_ips: str = "127.0.0.1"
