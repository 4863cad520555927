"""Rejected notifications are logged at most once per minute per kind, with the count of
those left unlogged in between."""

from __future__ import annotations

from services.notify.domain.quiet import LogBudget


def test_one_line_per_kind_per_interval_with_the_unlogged_count() -> None:
    budget = LogBudget(every_s=60.0)
    assert budget.allow("bad_client_state", 0.0) == 0
    assert [budget.allow("bad_client_state", t) for t in (1.0, 2.0, 59.0)] == [None] * 3
    assert budget.allow("unknown_subscription", 2.0) == 0, "each kind has its own budget"
    assert budget.allow("bad_client_state", 60.0) == 3
    assert budget.allow("bad_client_state", 61.0) is None
    assert budget.allow("bad_client_state", 500.0) == 1
