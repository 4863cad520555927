"""The credential expiry reminder of the integrations list: nothing until 30 days before, a
warning within them, an error on the day and after."""

from __future__ import annotations

from datetime import date

from services.web.domain.expiry import reminder

TODAY = date(2026, 12, 3)


def test_nothing_to_say_without_a_date_or_more_than_30_days_ahead() -> None:
    assert reminder(None, TODAY) is None
    assert reminder(date(2027, 1, 3), TODAY) is None


def test_a_warning_within_30_days() -> None:
    found = reminder(date(2027, 1, 2), TODAY)
    assert found is not None and found.level == "warning"
    assert found.message.startswith("expires in 30 days (2027-01-02)")
    one = reminder(date(2026, 12, 4), TODAY)
    assert one is not None and one.message.startswith("expires in 1 day ")


def test_an_error_on_the_day_and_after() -> None:
    today = reminder(TODAY, TODAY)
    assert today is not None and today.level == "error" and "expires today" in today.message
    past = reminder(date(2026, 11, 1), TODAY)
    assert past is not None and past.level == "error"
    assert past.message.startswith("expired on 2026-11-01: make a new one in Entra")
