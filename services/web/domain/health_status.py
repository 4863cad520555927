"""One integration's status on the health page: OK, Warning or Failing, and why.

Pure: every figure comes in, a :class:`Status` goes out (docs/console.md, "Health", the rules).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

Level = Literal["ok", "warning", "failing"]

#: Days before a secret's or certificate's expiry that the page warns.
EXPIRY_WARNING_DAYS = 30
#: Transient errors in a row that make an integration fail (fewer: a warning).
TRANSIENT_FAILING = 3
#: A last success older than this many poll intervals is stale (is the fetcher running?).
STALE_INTERVALS = 3

LABELS: dict[Level, str] = {"ok": "OK", "warning": "Warning", "failing": "Failing"}
_RANK: dict[Level, int] = {"ok": 0, "warning": 1, "failing": 2}


@dataclass(frozen=True)
class Signals:
    """What the page knows of one integration."""

    now: datetime
    poll_interval_s: float
    #: ``None``: the fetcher has recorded nothing for it yet.
    last_success_at: datetime | None = None
    consecutive_errors: int = 0
    #: ``credential``, ``permanent`` or ``transient`` (the last error's kind).
    error_kind: str | None = None
    quarantined: int = 0
    #: The secret's or certificate's expiry (the earlier of the two when both are known).
    expires_on: date | None = None
    recorded: bool = True


@dataclass(frozen=True)
class Status:
    level: Level
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        return LABELS[self.level]


def expiry_level(expires_on: date | None, today: date) -> Level:
    """Failing once expired, a warning within :data:`EXPIRY_WARNING_DAYS`."""
    if expires_on is None:
        return "ok"
    left = (expires_on - today).days
    if left < 0:
        return "failing"
    return "warning" if left <= EXPIRY_WARNING_DAYS else "ok"


def status_of(s: Signals) -> Status:
    """The worst of every rule's verdict, with each rule's reason that is not OK."""
    found = [*_errors(s), *_expiry(s), *_freshness(s), *_backlog(s)]
    if not found:
        return Status("ok")
    level = max((lvl for lvl, _ in found), key=_RANK.__getitem__)
    return Status(level, tuple(reason for _, reason in found))


def _errors(s: Signals) -> list[tuple[Level, str]]:
    n = s.consecutive_errors
    if n == 0:
        return []
    if s.error_kind == "credential":
        return [("failing", "the credential is refused")]
    if s.error_kind == "permanent":
        return [("failing", f"the last {n} poll(s) failed")]
    level: Level = "failing" if n >= TRANSIENT_FAILING else "warning"
    return [(level, f"the last {n} poll(s) failed")]


def _expiry(s: Signals) -> list[tuple[Level, str]]:
    level = expiry_level(s.expires_on, s.now.date())
    if level == "failing":
        return [(level, "the secret or certificate has expired")]
    if level == "warning":
        return [(level, "the secret or certificate expires soon")]
    return []


def _freshness(s: Signals) -> list[tuple[Level, str]]:
    if not s.recorded:
        return [("warning", "no poll recorded yet")]
    if s.consecutive_errors:
        return []  # the errors say it
    if s.last_success_at is None:
        return [("warning", "no successful poll yet")]
    age = (s.now - s.last_success_at).total_seconds()
    if age > STALE_INTERVALS * s.poll_interval_s:
        return [("warning", "no poll recorded lately: is the fetcher running?")]
    return []


def _backlog(s: Signals) -> list[tuple[Level, str]]:
    """Quarantined mail needs a look. Mail waiting does not by itself: a busy mailbox always
    has some in flight, and mail that keeps failing ends in the quarantine."""
    if s.quarantined:
        return [("warning", f"{s.quarantined} mail(s) quarantined")]
    return []


def ago(seconds: float) -> str:
    """A duration in the past, as the page says it: ``12 s ago``, ``3 min ago``, ``2 h ago``,
    ``4 d ago``."""
    s = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            return f"{s // size} {unit} ago"
    return f"{s} s ago"


def countdown(expires_on: date, today: date) -> str:
    """``expires in 12 days``, ``expires today``, ``expired 3 days ago``."""
    left = (expires_on - today).days
    if left == 0:
        return "expires today"
    if left > 0:
        return f"expires in {left} day{'s' if left != 1 else ''}"
    return f"expired {-left} day{'s' if left != -1 else ''} ago"
