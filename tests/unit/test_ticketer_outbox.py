"""The outbox without servers: acknowledgements are stored with their record and counted only
once published; any answer of the sender confirms them; the relay publishes what is due,
notes the confirm, backs off, and gives up only on what can never be read."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from libs.common.contracts import OutboundEmail, OutboundResult
from libs.common.errors import RetryableError
from services.ticketer.metrics import TicketerMetrics
from services.ticketer.relay import OutboxRelay, OutboxStore, retry_after
from services.ticketer.store.models import OutboxRow, WriteResult
from tests.unit.test_ticketer_handler import DELIVERY, NOW, Rig, mail, make_rig


def _ack_count(rig: Rig) -> float:
    metrics: TicketerMetrics = rig.ticketer._metrics
    return sum(
        s.value for m in metrics.acks.collect() for s in m.samples if s.name.endswith("_total")
    )


def test_an_acknowledgement_is_stored_in_the_outbox_of_its_records_unit() -> None:
    rig = make_rig(auto_acknowledge=True)
    assert rig.ticketer.handle_batch([(mail(1), DELIVERY), (mail(2), DELIVERY)]) == [None, None]
    assert rig.store.units == 1
    assert sorted(rig.store.outbox) == sorted(job.job_id for job in rig.outbox.jobs)
    assert len(rig.outbox.jobs) == 2
    for job in rig.outbox.jobs:
        row = rig.store.outbox[job.job_id]
        assert OutboundEmail.from_json(row["body"]) == job
        assert row["published"] is True  # the broker confirmed: noted
    assert _ack_count(rig) == 2


def test_a_rolled_back_batch_leaves_no_outbox_row_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    rig = make_rig(auto_acknowledge=True)
    real = rig.store.create_record_with_message
    calls = {"n": 0}

    def second_fails_once(*args: Any, **kw: Any) -> WriteResult:
        calls["n"] += 1
        if calls["n"] == 2:  # the first mail's record and ack are in the unit already
            raise RetryableError("database busy")
        return real(*args, **kw)

    monkeypatch.setattr(rig.store, "create_record_with_message", second_fails_once)
    results = rig.ticketer.handle_batch([(mail(1), DELIVERY), (mail(2), DELIVERY)])
    assert results == [None, None]
    # The unit was undone, the first ack with it; the one-by-one pass stored each once.
    assert len(rig.store.outbox) == 2
    assert sorted(j.job_id for j in rig.outbox.jobs) == sorted(rig.store.outbox)


def test_a_redelivered_email_keeps_one_outbox_row_for_its_acknowledgement() -> None:
    rig = make_rig(auto_acknowledge=True)
    rig.ticketer.handle(mail(1))
    rig.ticketer.handle(mail(1))  # the broker redelivers it: the stored outcome wins
    assert len(rig.store.records) == 1 and len(rig.store.outbox) == 1
    [job_id] = rig.store.outbox
    # Published again (the sender answers a job id once); the row stays the first one.
    assert [j.job_id for j in rig.outbox.jobs] == [job_id, job_id]
    assert rig.store.outbox[job_id]["attempts"] == 1


def test_a_failed_publish_counts_nothing_and_marks_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    rig = make_rig(auto_acknowledge=True)

    def down(messages: Sequence[object]) -> None:
        raise RetryableError("broker down")

    monkeypatch.setattr(rig.outbox, "publish", down)
    with pytest.raises(RetryableError):
        rig.ticketer.handle(mail(1))
    [row] = rig.store.outbox.values()
    assert row["published"] is False  # the relay publishes it once due
    assert _ack_count(rig) == 0


@pytest.mark.parametrize("status", ["sent", "failed", "rejected"])
def test_any_answer_of_the_sender_confirms_the_job(status: str) -> None:
    rig = make_rig(auto_acknowledge=True)
    rig.ticketer.handle(mail(1))
    [job] = rig.outbox.jobs
    result = OutboundResult(
        job_id=job.job_id,
        status=status,
        mailbox=job.mailbox,
        record_id=job.record_id,
        error_code=None if status == "sent" else "x",
        internet_message_id="<ack@contoso.com>" if status == "sent" else None,
        finished_at=NOW,
    )
    rig.ticketer.handle_result(result, DELIVERY)
    assert rig.store.outbox[job.job_id]["status"] == status


def test_backoff_doubles_from_the_first_retry_up_to_its_cap() -> None:
    delays = [retry_after(n, first_s=60, cap_s=600).total_seconds() for n in range(1, 8)]
    assert delays == [60, 120, 240, 480, 600, 600, 600]
    assert retry_after(10**9).total_seconds() == 600  # no overflow after years of retries


# -- the relay over a fake store ---------------------------------------------------------------


def _job(n: int) -> OutboundEmail:
    return OutboundEmail.model_validate(
        {
            "job_id": f"ack-{n}",
            "mailbox": "support@contoso.com",
            "to": [{"address": f"user{n}@customer.example"}],
            "subject": f"Re: request {n}",
            "text": "We have your request.",
            "created_at": NOW,
        }
    )


@dataclass
class FakeRows:
    now: datetime = datetime(2026, 12, 1, tzinfo=UTC)
    rows: dict[str, OutboxRow] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)
    confirmed: dict[str, str] = field(default_factory=dict)

    def add(self, body: str, job_id: str, attempts: int = 0, due: timedelta = timedelta(0)) -> None:
        self.rows[job_id] = OutboxRow(
            job_id, "support@contoso.com", body, attempts, self.now, self.now + due
        )

    def claim_due(self, limit: int, backoff: Callable[[int], timedelta]) -> list[OutboxRow]:
        due = [
            r
            for r in self.rows.values()
            if r.job_id not in self.confirmed and r.next_attempt_at <= self.now
        ][:limit]
        claimed = []
        for r in due:
            attempts = r.attempts + 1
            row = OutboxRow(
                r.job_id, r.mailbox, r.body, attempts, r.created_at, self.now + backoff(attempts)
            )
            self.rows[r.job_id] = row
            claimed.append(row)
        return claimed

    def mark_published(self, job_ids: Sequence[str]) -> None:
        self.published.extend(job_ids)

    def confirm_job(self, job_id: str, status: str, result: str) -> bool:
        self.confirmed[job_id] = status
        return True

    def make_pending_due(self) -> int:
        pending = [r for r in self.rows.values() if r.job_id not in self.confirmed]
        for r in pending:
            self.rows[r.job_id] = OutboxRow(
                r.job_id, r.mailbox, r.body, r.attempts, r.created_at, self.now
            )
        return len(pending)

    def forget_confirmed(self, before: datetime) -> int:
        return 0


# mypy holds each fake to the port it stands for: a fake that drifts fails the type check.
_FAKE_ROWS: OutboxStore = FakeRows()


def _relay(rows: FakeRows, sent: list[list[str]]) -> OutboxRelay:
    def publish(jobs: Sequence[OutboundEmail]) -> None:
        sent.append([j.job_id for j in jobs])

    return OutboxRelay(rows, publish, clock=lambda: rows.now)


def test_the_relay_publishes_due_jobs_once_per_claim_until_confirmed() -> None:
    rows = FakeRows()
    sent: list[list[str]] = []
    rows.add(_job(1).to_json().decode(), "ack-1")
    rows.add(_job(2).to_json().decode(), "ack-2", attempts=1, due=timedelta(seconds=60))
    relay = _relay(rows, sent)
    assert relay.publish_due() == 1
    assert sent == [["ack-1"]] and rows.published == ["ack-1"]
    assert relay.publish_due() == 0  # claimed: not due again before its backoff
    rows.now += timedelta(seconds=61)
    relay.publish_due()
    assert sorted(sent[-1]) == ["ack-1", "ack-2"]  # both due, neither answered
    rows.confirmed["ack-1"] = "sent"
    rows.now += timedelta(hours=1)
    relay.publish_due()
    assert sent[-1] == ["ack-2"]  # the answered one is never published again


def test_a_failed_publish_is_not_marked_and_comes_again_after_its_backoff() -> None:
    rows = FakeRows()
    rows.add(_job(1).to_json().decode(), "ack-1")

    def down(jobs: Sequence[OutboundEmail]) -> None:
        raise RetryableError("broker down")

    relay = OutboxRelay(rows, down, clock=lambda: rows.now)
    with pytest.raises(RetryableError):
        relay.publish_due()
    assert rows.published == []
    rows.now += retry_after(1)
    sent: list[list[str]] = []
    assert _relay(rows, sent).publish_due() == 1 and sent == [["ack-1"]]


def test_after_a_restart_without_queues_every_unanswered_job_is_due_now() -> None:
    rows = FakeRows()
    sent: list[list[str]] = []
    rows.add(_job(1).to_json().decode(), "ack-1", attempts=1, due=timedelta(minutes=5))
    rows.add(_job(2).to_json().decode(), "ack-2", attempts=1, due=timedelta(minutes=5))
    rows.confirmed["ack-2"] = "sent"
    relay = _relay(rows, sent)
    assert relay.publish_due() == 0
    relay.restarted_without_queues()
    relay.publish_due()
    assert sent == [["ack-1"]]


def test_an_unreadable_job_is_answered_failed_instead_of_published_forever() -> None:
    rows = FakeRows()
    sent: list[list[str]] = []
    rows.add('{"job_id": "old"}', "old")
    rows.add(_job(1).to_json().decode(), "ack-1")
    _relay(rows, sent).publish_due()
    assert rows.confirmed == {"old": "failed"}
    assert sent == [["ack-1"]]


def test_the_relay_loop_survives_failures_and_stops_on_its_event() -> None:
    rows = FakeRows()
    rows.add(_job(1).to_json().decode(), "ack-1")
    stop, calls = threading.Event(), []

    def flaky(jobs: Sequence[OutboundEmail]) -> None:
        calls.append(len(jobs))
        if len(calls) == 1:
            rows.now += retry_after(1)  # the next round finds it due again
            raise RetryableError("broker down")
        stop.set()

    OutboxRelay(rows, flaky, poll_s=0.01, clock=lambda: rows.now).run(stop)
    assert calls == [1, 1] and rows.published == ["ack-1"]
