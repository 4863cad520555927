"""Every job ends with exactly one result, a job id seen before keeps its first answer, and
the send policy's holes are closed (the sender's handler over the fakes of
tests/unit/test_sender_handler.py)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import timedelta

import pytest

from libs.common.broker import Delivery, Names
from libs.common.broker.batch import single
from libs.common.broker.policy import (
    REASON_DELIVERY_LIMIT,
    Action,
    Outcome,
    crash_loop,
    decide,
)
from libs.common.broker.work import Work
from libs.common.contracts import OutboundEmail
from libs.common.errors import ContractError
from libs.common.settings import MailpipeConfig
from services.sender.domain.policy import SendRejected
from tests.unit.test_sender_handler import DELIVERY, MAILBOX, box, job, rig

HELP2 = "help2@contoso.com"
STALE = timedelta(minutes=10)


def test_an_unexpected_error_releases_the_claim_and_ends_in_one_failed_result() -> None:
    r = rig()
    r.graph.fail_with.append(ValueError("Header values may not contain linefeed"))
    with pytest.raises(ValueError) as raised:
        r.handler(job("j1"), DELIVERY)
    # Never left `sending`: the next attempt may claim it at once.
    assert r.joblog.jobs["j1"].status == "retrying" and r.published == []
    outcome = decide(raised.value, attempt=6, tiers=5)
    assert outcome.action is Action.DEAD
    r.handler.on_dead(job("j1"), DELIVERY, outcome)
    r.handler.on_dead(job("j1"), DELIVERY, outcome)
    (result,) = r.published
    assert result.status == "failed" and result.error_code == "unexpected_error"
    assert "linefeed" in (result.error_message or "")
    assert "report it" in (result.error_message or "")
    assert r.joblog.jobs["j1"].status == "failed"


def test_a_crash_loop_is_answered_failed_though_its_claim_looks_live() -> None:
    r = rig()
    # The process died while holding the job, again and again: its claim is still fresh.
    r.joblog.claim_job("j1", stale_after=STALE)
    looped = Delivery("m", "c", headers={"x-delivery-count": 25}, redelivered=True)
    outcome = crash_loop(looped)
    assert outcome is not None and outcome.reason == REASON_DELIVERY_LIMIT
    r.handler.on_dead(job("j1"), looped, outcome)
    (result,) = r.published
    assert result.status == "failed" and result.error_code == REASON_DELIVERY_LIMIT
    assert r.joblog.jobs["j1"].status == "failed"


def test_a_sent_job_id_republished_with_a_forbidden_sender_is_answered_sent_only() -> None:
    r = rig()
    r.handler(job("j1"), DELIVERY)
    r.handler(job("j1", from_address="ceo@contoso.com"), DELIVERY)
    assert [p.status for p in r.published] == ["sent", "sent"]
    assert "already sent" in (r.published[1].detail or "")
    assert len(r.graph.sent) == 1 and r.joblog.jobs["j1"].status == "sent"


def test_a_sent_job_id_republished_broken_is_answered_with_its_first_result() -> None:
    r = rig()
    r.handler(job("j1"), DELIVERY)
    body = json.dumps({"job_id": "j1", "mailbox": MAILBOX, "subject": "a\x0bb"}).encode()
    r.handler.on_invalid(body, DELIVERY, ContractError("subject: line break"))
    assert [p.status for p in r.published] == ["sent", "sent"]
    assert r.published[1].internet_message_id == r.published[0].internet_message_id


@pytest.mark.parametrize(
    "fields",
    [
        {"from_name": "ceo@contoso.com <ceo@contoso.com>"},
        {"from_name": 'CEO" <ceo@contoso.com>'},
        {"to": [{"address": "customer@example.org", "name": "IT <it@contoso.com>"}]},
        {"reply_to": [{"address": "a@example.org", "name": "ceo\uff20contoso.com"}]},
    ],
)
def test_a_display_name_posing_as_an_address_is_rejected(fields: dict[str, object]) -> None:
    r = rig()
    with pytest.raises(SendRejected):
        r.handler(job("j1", **fields), DELIVERY)
    (result,) = r.published
    assert result.status == "rejected" and result.error_code == "display_name_not_allowed"
    assert r.graph.sent == [] and r.joblog.jobs["j1"].status == "rejected"


def test_the_routing_key_must_name_the_jobs_mailbox() -> None:
    r = rig()
    r.handler.ports.config = MailpipeConfig(mailboxes=(box(), box(address=HELP2)))
    via_support = replace(DELIVERY, routing_key=f"outbound.{MAILBOX}")
    with pytest.raises(SendRejected):
        r.handler(job("j1", mailbox=HELP2), via_support)
    assert r.published[-1].error_code == "routing_key_mismatch" and r.graph.sent == []
    assert f"outbound.{HELP2}" in (r.published[-1].error_message or "")
    r.handler(job("j2", mailbox=HELP2), replace(DELIVERY, routing_key=f"outbound.{HELP2}"))
    r.handler(job("j3"), replace(DELIVERY, routing_key=f"outbound.{MAILBOX.upper()}"))
    assert [p.status for p in r.published] == ["rejected", "sent", "sent"]


@pytest.mark.parametrize("owner", [HELP2, None])
def test_a_record_of_another_mailbox_is_refused(owner: str | None) -> None:
    r = rig(records={5: owner})
    with pytest.raises(SendRejected):
        r.handler(job("j1", record_id=5), DELIVERY)
    (result,) = r.published
    assert result.error_code == "record_not_in_mailbox" and r.graph.sent == []
    r.handler(job("j2", record_id=6), DELIVERY)  # a record of this mailbox
    assert r.published[-1].status == "sent"


def test_a_blob_reference_must_give_the_blobs_real_size() -> None:
    sha = hashlib.sha256(b"big").hexdigest()
    r = rig(blobs={sha: 30_000_000})
    attachment = {"name": "big.bin", "blob": {"sha256": sha, "size": 10}}
    with pytest.raises(SendRejected):
        r.handler(job("j1", attachments=[attachment]), DELIVERY)
    (result,) = r.published
    assert result.error_code == "blob_size_mismatch" and "30000000" in (result.error_message or "")


def test_a_rejected_result_names_the_recipients() -> None:
    r = rig()
    with pytest.raises(SendRejected):
        r.handler(job("j1", from_address="ceo@contoso.com"), DELIVERY)
    (result,) = r.published
    assert result.status == "rejected"
    assert [a.address for a in result.to] == ["customer@example.org"]


def test_retries_used_up_while_another_sender_holds_the_job_are_left_to_it() -> None:
    r = rig()
    r.joblog.claim_job("j1", stale_after=STALE)
    r.handler.on_dead(job("j1"), DELIVERY, Outcome(Action.DEAD, reason="job_in_progress"))
    assert r.published == []


def test_a_job_with_a_field_mailpipe_does_not_know_ends_in_one_rejected_result() -> None:
    """The job contract stays strict (docs/publishing-jobs.md#evolving-the-contracts): its
    sender hears which field was refused, once, and the job is parked as a dead letter."""
    r = rig()
    handler = single(r.handler)  # as the broker runs it
    work = Work(Names().sender, OutboundEmail, handler, r.handler.on_invalid, r.handler.on_dead)
    body = json.loads(job("j-colour").to_json()) | {"colour": "red"}
    [outcome] = work([(json.dumps(body).encode(), DELIVERY)])
    assert outcome.action is Action.DEAD
    (result,) = r.published
    assert (result.job_id, result.status, result.error_code) == (
        "j-colour",
        "rejected",
        "contract_violation",
    )
    assert "colour: Extra inputs are not permitted" in (result.error_message or "")
    assert r.graph.sent == [] and "j-colour" not in r.joblog.jobs
