"""The health page's status rules (services/web/domain/health_status.py), one by one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from services.web.domain.health_status import (
    Signals,
    ago,
    countdown,
    expiry_level,
    status_of,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
FINE = Signals(now=NOW, poll_interval_s=30.0, last_success_at=NOW - timedelta(seconds=12))


def test_a_recent_success_without_errors_is_ok() -> None:
    status = status_of(FINE)
    assert (status.level, status.label, status.reasons) == ("ok", "OK", ())


def test_a_refused_credential_fails_at_its_first_error() -> None:
    status = status_of(replace(FINE, consecutive_errors=1, error_kind="credential"))
    assert (status.level, status.label) == ("failing", "Failing")
    assert status.reasons == ("the credential is refused",)


def test_a_permanent_error_fails_at_once() -> None:
    status = status_of(replace(FINE, consecutive_errors=1, error_kind="permanent"))
    assert status.level == "failing"
    assert status.reasons == ("the last 1 poll(s) failed",)


@pytest.mark.parametrize(("errors", "level"), [(1, "warning"), (2, "warning"), (3, "failing")])
def test_transient_errors_warn_then_fail_from_the_third_in_a_row(errors: int, level: str) -> None:
    status = status_of(replace(FINE, consecutive_errors=errors, error_kind="transient"))
    assert status.level == level
    assert status.reasons == (f"the last {errors} poll(s) failed",)


@pytest.mark.parametrize(
    ("days", "level"),
    [(31, "ok"), (30, "warning"), (1, "warning"), (0, "warning"), (-1, "failing")],
)
def test_expiry_warns_30_days_before_and_fails_after(days: int, level: str) -> None:
    expires = NOW.date() + timedelta(days=days)
    assert expiry_level(expires, NOW.date()) == level
    assert status_of(replace(FINE, expires_on=expires)).level == level


def test_no_expiry_known_is_no_verdict() -> None:
    assert expiry_level(None, NOW.date()) == "ok"


def test_a_mailbox_never_recorded_or_never_successful_is_a_warning() -> None:
    never = status_of(replace(FINE, recorded=False, last_success_at=None))
    assert (never.level, never.reasons) == ("warning", ("no poll recorded yet",))
    unsuccessful = status_of(replace(FINE, last_success_at=None))
    assert (unsuccessful.level, unsuccessful.reasons) == ("warning", ("no successful poll yet",))


def test_a_success_older_than_three_intervals_is_stale() -> None:
    fresh = replace(FINE, last_success_at=NOW - timedelta(seconds=90))
    assert status_of(fresh).level == "ok"
    stale = status_of(replace(FINE, last_success_at=NOW - timedelta(seconds=91)))
    assert stale.level == "warning"
    assert stale.reasons == ("no poll recorded lately: is the fetcher running?",)


def test_errors_speak_for_an_old_success() -> None:
    old = replace(FINE, last_success_at=NOW - timedelta(hours=1))
    status = status_of(replace(old, consecutive_errors=1, error_kind="transient"))
    assert status.reasons == ("the last 1 poll(s) failed",)


def test_quarantined_mail_warns() -> None:
    status = status_of(replace(FINE, quarantined=1))
    assert status.level == "warning"
    assert status.reasons == ("1 mail(s) quarantined",)


def test_the_worst_verdict_wins_and_every_reason_is_kept() -> None:
    expired = NOW.date() - timedelta(days=2)
    status = status_of(replace(FINE, quarantined=1, expires_on=expired))
    assert status.level == "failing"
    assert status.reasons == ("the secret or certificate has expired", "1 mail(s) quarantined")


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0, "0 s ago"),
        (12.7, "12 s ago"),
        (60, "1 min ago"),
        (7200, "2 h ago"),
        (86400 * 4, "4 d ago"),
    ],
)
def test_ago(seconds: float, said: str) -> None:
    assert ago(seconds) == said


def test_ago_never_says_the_future() -> None:
    assert ago(-3) == "0 s ago"


@pytest.mark.parametrize(
    ("days", "said"),
    [
        (12, "expires in 12 days"),
        (1, "expires in 1 day"),
        (0, "expires today"),
        (-1, "expired 1 day ago"),
        (-3, "expired 3 days ago"),
    ],
)
def test_countdown(days: int, said: str) -> None:
    today = date(2026, 12, 3)
    assert countdown(today + timedelta(days=days), today) == said
