"""The fetcher's mailbox health recorder (services/fetcher/health.py): what it writes when,
and that a database outage never reaches the poller."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from structlog.testing import capture_logs

from libs.common.db.mailbox_health import MailboxHealth
from services.fetcher.health import HealthRecorder

A = "support@contoso.com"
B = "helpdesk@contoso.com"


class Sink:
    """Keeps every batch; ``down`` makes ``save`` fail as a database outage does."""

    def __init__(self) -> None:
        self.batches: list[list[MailboxHealth]] = []
        self.down = False

    def save(self, rows: Iterable[MailboxHealth]) -> int:
        if self.down:
            raise ConnectionError("database unreachable")
        batch = list(rows)
        self.batches.append(batch)
        return len(batch)


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def recorder() -> tuple[HealthRecorder, Sink, Ticks]:
    sink, ticks = Sink(), Ticks()
    clock = lambda: datetime(2026, 12, 3, 12, 0, tzinfo=UTC)  # noqa: E731
    return HealthRecorder(sink, clock=clock, ticks=ticks), sink, ticks


def test_rounds_are_batched_into_one_write_per_flush() -> None:
    health, sink, _ = recorder()
    health.success(A, 30.0)
    health.success(B, 30.0, waiting=2)
    assert sink.batches == [], "noting a round writes nothing"
    assert health.flush() == 2
    assert [sorted(r.mailbox for r in batch) for batch in sink.batches] == [[B, A]]
    (b,) = [r for r in sink.batches[0] if r.mailbox == B]
    assert b.waiting == 2 and b.last_success_at is not None


def test_an_unchanged_mailbox_is_written_again_only_after_its_poll_interval() -> None:
    health, sink, ticks = recorder()
    health.success(A, 30.0)
    health.flush()
    health.success(A, 30.0)
    ticks.now += 29
    assert health.flush() == 0, "same state, written less than an interval ago"
    ticks.now += 1
    assert health.flush() == 1
    assert len(sink.batches) == 2


def test_errors_count_up_with_their_hint_and_a_success_resets_them() -> None:
    health, sink, _ = recorder()
    health.failure(A, 30.0, "AADSTS7000215", "paste the secret's Value", "credential")
    health.flush()
    health.failure(A, 30.0, "AADSTS7000215", "paste the secret's Value", "credential")
    assert health.flush() == 1, "a changed count is written at once"
    row = sink.batches[-1][0]
    assert (row.error_code, row.error_kind, row.consecutive_errors) == (
        "AADSTS7000215",
        "credential",
        2,
    )
    assert row.error_hint == "paste the secret's Value" and row.last_error_at is not None
    health.success(A, 30.0)
    health.flush()
    row = sink.batches[-1][0]
    assert (row.error_code, row.error_hint, row.consecutive_errors) == (None, None, 0)
    assert row.last_error_at is not None, "when the last error was stays known"


def test_waiting_mail_keeps_the_last_success() -> None:
    health, sink, _ = recorder()
    health.success(A, 30.0)
    health.waiting(A, 30.0, 3)
    health.flush()
    row = sink.batches[-1][0]
    assert row.waiting == 3 and row.last_success_at is not None


def test_a_database_outage_is_logged_once_and_the_rows_written_when_it_answers() -> None:
    health, sink, _ = recorder()
    sink.down = True
    with capture_logs() as logs:
        health.success(A, 30.0)
        assert health.flush() == 0
        health.failure(A, 30.0, "timeout", None, "transient")
        assert health.flush() == 0
        sink.down = False
        assert health.flush() == 1
    said = [e["event"] for e in logs]
    assert said == ["mailbox health not recorded", "mailbox health recorded again"]
    assert sink.batches[0][0].consecutive_errors == 1


def test_a_mailbox_another_fetcher_took_is_no_longer_written() -> None:
    health, sink, ticks = recorder()
    health.success(A, 30.0)
    health.success(B, 30.0)
    health.flush()
    health.forget(A)
    ticks.now += 30
    assert health.flush() == 1
    assert [r.mailbox for r in sink.batches[-1]] == [B]
