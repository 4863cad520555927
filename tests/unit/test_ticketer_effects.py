"""``effects_for``: what a stored decision publishes, the same on every delivery; and a
redelivery publishes it without classifying the mail again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from libs.common.contracts import Address, MailHeaders, OutboundEmail, RecordEvent
from services.ticketer import handler
from services.ticketer.domain.acknowledgement import ack_job_id
from services.ticketer.domain.verdict import Classification
from services.ticketer.effects import acknowledgement_job_id, effects_for, record_of
from services.ticketer.store.models import Party, ProcessedRow, RecordSummary
from tests.unit.test_ticketer_handler import BOX, NOW, Rig, ack_rig, mail

CREATED = ProcessedRow(
    BOX, "microsoft", "g1", "inbox", "<m1@x>", "created", 1, None, NOW, "new_request", "none"
)
RECORD = RecordSummary(1, BOX, "Printer", Party("ann@x.example"), "open", 1, NOW, NOW)
JOB = OutboundEmail(
    job_id="ack:j", mailbox=BOX, to=(Address(address="ann@x.example"),), subject="s", text="t"
)


def test_a_created_record_publishes_processed_event_and_its_acknowledgement() -> None:
    processed, event, job = effects_for(CREATED, RECORD, JOB, NOW)
    assert (processed.outcome, processed.record_id) == ("created", 1)  # type: ignore[union-attr]
    assert isinstance(event, RecordEvent)
    assert (event.event, event.change, event.internet_message_id) == (
        "created",
        "new_request",
        "<m1@x>",
    )
    assert job is JOB


def test_an_appended_message_announces_its_stored_change() -> None:
    row = replace(CREATED, outcome="appended", change="auto_reply")
    [_, event] = effects_for(row, RECORD, JOB, NOW)  # no acknowledgement for an append
    assert isinstance(event, RecordEvent) and (event.event, event.change) == (
        "updated",
        "auto_reply",
    )


def test_ignored_mail_or_a_deleted_record_publishes_only_the_outcome() -> None:
    ignored = replace(CREATED, outcome="ignored", record_id=None, change=None, reason="loop:x")
    assert [type(m).__name__ for m in effects_for(ignored, None, None, NOW)] == ["ProcessedEmail"]
    assert [type(m).__name__ for m in effects_for(CREATED, None, None, NOW)] == ["ProcessedEmail"]
    assert record_of(ignored) is None and record_of(CREATED) == 1


@pytest.mark.parametrize(
    ("row", "wanted"),
    [
        (replace(CREATED, ack="acknowledge"), True),
        (replace(CREATED, ack=None), True),  # stored before intents were: the outbox says
        (replace(CREATED, ack="none"), False),
        (replace(CREATED, ack="refused:own_domain:contoso.com"), False),
        (replace(CREATED, outcome="appended", ack="acknowledge"), False),
    ],
)
def test_the_acknowledgement_looked_for_is_the_one_the_decision_asked_for(
    row: ProcessedRow, wanted: bool
) -> None:
    expected = ack_job_id(BOX, 1, "g1") if wanted else None
    assert acknowledgement_job_id(row) == expected


def _classify_once(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Classification that fails when a mail is classified a second time."""
    real: Callable[..., Classification] = handler.classify
    seen: list[str] = []

    def once(facts: Any, **kwargs: Any) -> Classification:
        key = facts.message_id
        assert key not in seen, f"{key} classified again"
        seen.append(key)
        return real(facts, **kwargs)

    monkeypatch.setattr(handler, "classify", once)
    return seen


def _taken(rig: Rig) -> list[Any]:
    """What the rig published since the last call."""
    out = [*rig.outbox.processed_, *rig.outbox.events, *rig.outbox.jobs]
    for part in (rig.outbox.processed_, rig.outbox.events, rig.outbox.jobs):
        part.clear()
    return out


@pytest.mark.parametrize(
    ("later", "kinds"),
    [
        ({}, ["ProcessedEmail", "RecordEvent", "OutboundEmail"]),  # acknowledged
        ({"headers": MailHeaders(in_reply_to="<m1@customer.example>")}, None),  # a reply
        (
            {"headers": MailHeaders(in_reply_to="<m1@x.example>", auto_submitted="auto-replied")},
            ["ProcessedEmail"],  # an auto-reply to nothing of ours: ignored
        ),
        ({"from": Address(address="someone@contoso.com")}, None),  # acknowledgement refused
    ],
)
def test_a_redelivery_publishes_the_stored_effects_without_classifying_again(
    monkeypatch: pytest.MonkeyPatch, later: dict[str, Any], kinds: list[str] | None
) -> None:
    rig, _ = ack_rig()
    rig.ticketer.handle(mail(1))
    _taken(rig)
    seen = _classify_once(monkeypatch)
    email = mail(2, conversation_id="other", **later)
    rig.ticketer.handle(email)
    first = _taken(rig)
    rig.ticketer.handle(email)  # redelivered: classifying it again would fail
    assert seen == ["<m2@customer.example>"]
    assert _taken(rig) == first
    expected = kinds or ["ProcessedEmail", "RecordEvent"]
    assert [type(m).__name__ for m in first] == expected


def test_a_reply_whose_record_was_deleted_is_planned_again_as_a_new_acknowledged_record() -> None:
    rig, _ = ack_rig()
    rig.ticketer.handle(mail(1))
    _taken(rig)
    real_append = rig.store.append_message

    def gone(record_id: int, msg: Any, **kwargs: Any) -> Any:
        rig.store.records.pop(record_id, None)  # deleted after the lookup found it
        return real_append(record_id, msg, **kwargs)

    rig.store.append_message = gone  # type: ignore[method-assign]
    rig.ticketer.handle(mail(2, headers=MailHeaders(in_reply_to="<m1@customer.example>")))
    row = rig.store.processed[(BOX, "g2")]
    assert (row.outcome, row.change, row.ack) == ("created", "new_request", "acknowledge")
    assert [type(m).__name__ for m in _taken(rig)] == [
        "ProcessedEmail",
        "RecordEvent",
        "OutboundEmail",
    ]
