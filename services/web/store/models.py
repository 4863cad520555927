"""What the console's repository returns. A user's password hash is a field of its own, kept
out of every repr so that a logged or rendered user never shows it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from libs.common.errors import MailpipeError


class UsernameTaken(MailpipeError):
    """Another account has this username (whatever its case)."""

    def __init__(self, username: str) -> None:
        super().__init__(f"the username {username!r} is taken", hint="pick another username")


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    role: str
    disabled: bool
    created_at: datetime
    updated_at: datetime
    password_hash: str = field(repr=False, compare=False)
    #: The address Send As is granted for (set by an admin); ``None`` until set.
    personal_email: str | None = None

    @property
    def active_admin(self) -> bool:
        return self.role == "admin" and not self.disabled


@dataclass(frozen=True)
class SessionRow:
    id: int
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    csrf_secret: str = field(repr=False, compare=False)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    detail: dict[str, Any]
