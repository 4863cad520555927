"""CSRF tokens, session expiry and where a sign-in may send the browser next."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

SessionState = Literal["live", "idle", "expired"]


def token_matches(expected: str | None, given: str | None) -> bool:
    """Whether the form's token is the expected one, compared in constant time."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(hours=8)
    absolute: timedelta = timedelta(days=7)


def session_state(
    created_at: datetime, last_seen_at: datetime, now: datetime, policy: SessionPolicy
) -> SessionState:
    """``expired`` past the absolute lifetime, ``idle`` when unused too long, else ``live``."""
    if now >= created_at + policy.absolute:
        return "expired"
    if now >= last_seen_at + policy.idle:
        return "idle"
    return "live"


def safe_next(value: str | None, default: str = "/") -> str:
    """``value`` when it is a path on this site; ``default`` for anything that could leave it
    (another host, a scheme, ``//host``, backslashes browsers read as slashes)."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value
