"""The console's settings: environment variables with the prefix ``MAILPIPE_WEB_``
(docs/configuration.md). The database is the one of ``MAILPIPE_DATABASE_URL``."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.web.domain.body_limits import FORM_BYTES, UPLOAD_BYTES, BodyLimits
from services.web.domain.tokens import SessionPolicy


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAILPIPE_WEB_", extra="ignore", frozen=True)

    #: Where ``mailpipe web`` listens (the ``--host`` and ``--port`` options override them).
    host: str = "127.0.0.1"
    port: int = Field(default=8025, ge=0, le=65535)
    #: A session unused this long ends (8 hours).
    session_idle_s: int = Field(default=8 * 3600, gt=0)
    #: A session ends this long after sign-in, used or not (7 days).
    session_absolute_s: int = Field(default=7 * 86400, gt=0)
    #: Cookies without ``Secure``, for plain HTTP on the local machine only.
    insecure_cookies: bool = False
    #: Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated
    #: addresses, or ``*``): the client address is what sign-in throttling counts by.
    forwarded_allow_ips: str = "127.0.0.1"
    #: The largest request body of the reply form (its files), and of every other form:
    #: a larger one is refused with 413 before the rest of it is read.
    max_upload_bytes: int = Field(default=UPLOAD_BYTES, gt=0)
    max_form_bytes: int = Field(default=FORM_BYTES, gt=0)

    def session_policy(self) -> SessionPolicy:
        return SessionPolicy(
            idle=timedelta(seconds=self.session_idle_s),
            absolute=timedelta(seconds=self.session_absolute_s),
        )

    def body_limits(self) -> BodyLimits:
        return BodyLimits(upload_bytes=self.max_upload_bytes, form_bytes=self.max_form_bytes)
