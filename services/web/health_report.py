"""The health page's data: every integration's figures and status, and the dead letters
(docs/console.md, "Health"). The page and ``/health.json`` both render a :class:`HealthReport`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from libs.common.db.integrations import Integrations
from libs.common.db.mailbox_health import MailboxHealth, MailboxHealthStore
from libs.common.db.rows import norm_address
from libs.common.settings import Settings
from services.web.domain.health_status import (
    Level,
    Signals,
    Status,
    ago,
    countdown,
    expiry_level,
    status_of,
)
from services.web.health_sources import (
    DeadCount,
    DeadLetterCounts,
    IntegrationView,
    Listing,
    ask_broker,
    list_integrations,
)


@dataclass(frozen=True)
class IntegrationHealth:
    view: IntegrationView
    status: Status
    row: MailboxHealth | None
    last_success: str
    records_today: int
    quarantined: int
    expiry: str
    expiry_level: Level


@dataclass(frozen=True)
class HealthReport:
    at: datetime
    listing: Listing
    integrations: tuple[IntegrationHealth, ...]
    dead: DeadCount


class HealthSource:
    """Reads every figure afresh on each call (dead letters: at most every 10 s)."""

    def __init__(
        self,
        store: MailboxHealthStore,
        listing: Callable[[], Listing],
        dead: Callable[[], DeadCount],
    ) -> None:
        self._store = store
        self._listing = listing
        self._dead = dead

    @classmethod
    def from_settings(cls, settings: Settings, store: MailboxHealthStore) -> HealthSource:
        """On the console's database (``store``) and the broker of ``settings``."""
        stored = Integrations(store.engine)
        return cls(
            store,
            lambda: list_integrations(settings, stored),
            DeadLetterCounts(lambda: ask_broker(settings)),
        )

    def report(self, now: datetime) -> HealthReport:
        listing = self._listing()
        rows = self._store.all()
        today = self._store.records_since(datetime.combine(now.date(), time(), now.tzinfo))
        quarantined = self._store.quarantined()
        found = tuple(
            _one(view, rows.get(norm_address(view.address)), today, quarantined, now)
            for view in listing.integrations
        )
        return HealthReport(now, listing, found, self._dead())


def _one(
    view: IntegrationView,
    row: MailboxHealth | None,
    today: dict[str, int],
    quarantined: dict[str, int],
    now: datetime,
) -> IntegrationHealth:
    key = norm_address(view.address)
    held = quarantined.get(key, 0)
    signals = Signals(
        now=now,
        poll_interval_s=view.poll_interval_s,
        last_success_at=row.last_success_at if row else None,
        consecutive_errors=row.consecutive_errors if row else 0,
        error_kind=row.error_kind if row else None,
        quarantined=held,
        expires_on=view.expires_on,
        recorded=row is not None,
    )
    last = row.last_success_at if row else None
    return IntegrationHealth(
        view=view,
        status=status_of(signals),
        row=row,
        last_success=ago((now - last).total_seconds()) if last else "never",
        records_today=today.get(key, 0),
        quarantined=held,
        expiry=countdown(view.expires_on, now.date()) if view.expires_on else "no expiry known",
        expiry_level=expiry_level(view.expires_on, now.date()),
    )


def as_json(report: HealthReport, *, hints: bool) -> dict[str, Any]:
    """The report as ``/health.json`` answers it; the fix hints only for ``hints`` (admins)."""
    return {
        "at": report.at.isoformat(),
        "source": report.listing.source,
        "problem": report.listing.problem,
        "integrations": [_json_one(one, hints) for one in report.integrations],
        "dead_letters": {
            "total": report.dead.total,
            "queues": report.dead.queues,
            "problem": report.dead.problem,
        },
    }


def _json_one(one: IntegrationHealth, hints: bool) -> dict[str, Any]:
    row = one.row
    return {
        "name": one.view.name,
        "address": one.view.address,
        "status": one.status.level,
        "label": one.status.label,
        "reasons": list(one.status.reasons),
        "last_success_at": row.last_success_at.isoformat() if row and row.last_success_at else None,
        "last_error": row.error_code if row else None,
        "hint": (row.error_hint if row else None) if hints else None,
        "consecutive_errors": row.consecutive_errors if row else 0,
        "waiting": row.waiting if row else 0,
        "records_today": one.records_today,
        "quarantined": one.quarantined,
        "expires_on": one.view.expires_on.isoformat() if one.view.expires_on else None,
        "expiry": one.expiry,
    }
