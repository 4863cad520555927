"""Hostile or broken job publishes: each ends in exactly one result (or, with nothing to key it
by, one dead letter), says what to fix, and never stops the jobs behind it (the sender's
handler run as the consumer loop runs it, over the fakes of tests/unit/test_sender_handler.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from libs.common.broker import Delivery, Names
from libs.common.broker.batch import single
from libs.common.broker.policy import Action, Outcome
from libs.common.broker.work import Work
from libs.common.contracts import OutboundEmail
from tests.unit.test_sender_handler import DELIVERY, Rig, job, rig


def _work(r: Rig) -> Work[OutboundEmail]:
    return Work(
        Names().sender, OutboundEmail, single(r.handler), r.handler.on_invalid, r.handler.on_dead
    )


def _run(r: Rig, body: bytes, delivery: Delivery = DELIVERY) -> Outcome:
    [outcome] = _work(r)([(body, delivery)])
    return outcome


def _body(**fields: Any) -> bytes:
    data = json.loads(job("unused").to_json()) | fields
    return json.dumps({k: v for k, v in data.items() if v is not None}).encode()


UNUSABLE_JOB_IDS = {
    "missing": _body(job_id=None),
    "a number": _body(job_id=7),
    "empty": _body(job_id=""),
    "over-long": _body(job_id="j" * 1001),
    "a line break": _body(job_id="a\nb"),
    "not JSON": b"this is not JSON",
    "not an object": b'["job_id", "j1"]',
}


@pytest.mark.parametrize("body", UNUSABLE_JOB_IDS.values(), ids=UNUSABLE_JOB_IDS.keys())
def test_a_job_without_a_usable_job_id_is_answered_under_its_correlation_id(body: bytes) -> None:
    r = rig()
    outcome = _run(r, body, Delivery(message_id="amqp-1", correlation_id="crm-4711"))
    assert outcome.action is Action.DEAD  # parked, and the jobs behind it go on
    (result,) = r.published
    assert (result.job_id, result.status, result.error_code) == (
        "crm-4711",
        "rejected",
        "contract_violation",
    )
    assert "correlation_id" in (result.detail or "")
    assert result.error_message and "\n" not in result.error_message
    assert r.graph.sent == [] and r.joblog.jobs == {}


def test_without_a_correlation_id_the_message_id_keys_the_answer() -> None:
    r = rig()
    _run(r, _body(job_id=None), Delivery(message_id="amqp-1", correlation_id=""))
    (result,) = r.published
    assert result.job_id == "amqp-1" and "message_id" in (result.detail or "")


def test_an_unusable_correlation_id_gives_way_to_the_message_id() -> None:
    r = rig()
    _run(r, _body(job_id=7), Delivery(message_id="amqp-1", correlation_id="a\rb"))
    (result,) = r.published
    assert result.job_id == "amqp-1"


def test_with_nothing_to_key_an_answer_by_the_job_is_dead_lettered_and_logged(
    capsys: pytest.CaptureFixture[str],
) -> None:
    r = rig()
    outcome = _run(r, _body(job_id=None), Delivery(message_id="", correlation_id=""))
    assert outcome.action is Action.DEAD and outcome.reason == "contract_violation"
    assert "job_id" in outcome.error
    assert r.published == []
    assert (
        "job without a job_id, correlation_id or message_id dead-lettered"
        in capsys.readouterr().out
    )


def test_a_usable_job_id_in_the_body_wins_over_the_correlation_id() -> None:
    r = rig()
    _run(r, _body(job_id="j-body", subject="a\x0bb"), Delivery("amqp-1", "crm-4711"))
    (result,) = r.published
    assert result.job_id == "j-body" and result.detail is None


def test_a_correlation_id_seen_before_keeps_its_first_answer() -> None:
    r = rig()
    r.handler(job("crm-4711"), DELIVERY)
    _run(r, _body(job_id=None), Delivery("amqp-2", "crm-4711"))
    assert [p.status for p in r.published] == ["sent", "sent"]
    assert r.published[1].internet_message_id == r.published[0].internet_message_id
