"""The sender's handler over fakes (no broker, Graph or database): the order of its steps,
what it answers, the rate limit holding jobs instead of failing them."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from libs.common.broker import Delivery
from libs.common.broker.policy import Action, Outcome
from libs.common.contracts import OutboundEmail, OutboundResult
from libs.common.errors import RetryableError
from libs.common.mail import SendAsDenied, Throttled
from libs.common.settings import MailboxConfig, MailpipeConfig
from services.sender.config import SenderSettings
from services.sender.domain.attachments import AttachmentBytes
from services.sender.domain.policy import SendRejected
from services.sender.handler import JobInProgress, SenderPorts, SendHandler
from services.sender.pacing import Pacer, SenderStopping
from services.sender.results import invalid_job_result
from services.sender.transport import choose_path
from tests.joblog_fake import FakeJobLog
from tests.mail_fake import SEND_LIMITS, FakeMailbox
from tests.slots_fake import FakeClock, FakeSendSlots, FakeStop

MAILBOX = "support@contoso.com"
DELIVERY = Delivery(message_id="m", correlation_id="c")


def box(**overrides: Any) -> MailboxConfig:
    data = {"address": MAILBOX, "tenant_id": "t", "client_id": "c", "client_secret": "s"}
    return MailboxConfig.model_validate(data | overrides)


@dataclass
class Rig:
    handler: SendHandler
    joblog: FakeJobLog
    graph: FakeMailbox
    published: list[OutboundResult]
    clock: FakeClock
    slots: FakeSendSlots
    stop: FakeStop


def rig(
    limit: int = 30,
    *,
    stale_claim_s: float = 600.0,
    records: dict[int, str | None] | None = None,
    blobs: dict[str, int] | None = None,
    **mailbox: Any,
) -> Rig:
    """``records``: record id → its mailbox (others belong to MAILBOX); ``blobs``: sha256 →
    stored size (others are not stored)."""
    records, blobs = records or {}, blobs or {}
    joblog, clock = FakeJobLog(), FakeClock()
    slots, stop = FakeSendSlots(clock), FakeStop(clock)
    # One fake per mailbox (``graph`` is MAILBOX's); the agents a mailbox may send as have
    # their grant, as the doctor checks.
    graph = FakeMailbox(address=MAILBOX, send_as=set(mailbox.get("send_as", ())))
    fakes = {MAILBOX: graph}

    def mail_for(b: MailboxConfig) -> FakeMailbox:
        return fakes.setdefault(b.address, FakeMailbox(address=b.address, send_as=set(b.send_as)))

    published: list[OutboundResult] = []
    settings = SenderSettings(rate_per_minute=limit, stale_claim_s=stale_claim_s)
    ports = SenderPorts(
        config=MailpipeConfig(mailboxes=(box(**mailbox),)),
        settings=settings,
        joblog=joblog,
        read_blob=lambda ref: b"",
        mail_for=mail_for,
        thread_of=lambda record_id: None,
        record_mailbox=lambda record_id: records.get(record_id, MAILBOX),
        blob_size=lambda ref: blobs.get(ref.sha256),
        publish=published.append,
        pacer=Pacer(slots, settings.rate, stop),
        sleep=clock.sleep,
    )
    return Rig(SendHandler(ports), joblog, graph, published, clock, slots, stop)


def job(job_id: str, **fields: Any) -> OutboundEmail:
    data = {
        "job_id": job_id,
        "mailbox": MAILBOX,
        "to": [{"address": "customer@example.org"}],
        "subject": "Hi",
        "text": "Hello",
    }
    return OutboundEmail.model_validate(data | fields)


def _waits() -> float:
    return REGISTRY.get_sample_value("mailpipe_send_rate_limit_waits_total") or 0.0


def test_the_rate_limit_holds_jobs_and_fails_none() -> None:
    r = rig(limit=2)
    before = _waits()
    for i in range(5):
        r.handler(job(f"j{i}"), DELIVERY)
    assert len(r.graph.sent) == 5
    assert [p.status for p in r.published] == ["sent"] * 5
    # Two go at once; the third and the fifth wait for the 60-second window to move on.
    assert r.clock.slept == [60.0, 60.0]
    assert _waits() - before == 2
    # Each slot is stamped where its send ended; no window holds more than two.
    assert sorted(t for _, t in r.slots.slots.values()) == [1000.0, 1000.0, 1060.0, 1060.0, 1120.0]


def test_a_database_outage_while_waiting_for_a_slot_keeps_the_job_in_hand() -> None:
    r = rig()
    r.slots.fail_takes = 4
    r.handler(job("j1"), DELIVERY)  # no retry tier: the slot is asked for again
    assert len(r.graph.sent) == 1 and [p.status for p in r.published] == ["sent"]
    assert r.slots.takes == 5 and r.joblog.jobs["j1"].attempts == 1
    assert r.clock.slept and max(r.clock.slept) <= 5.0  # backoff, capped


def test_a_stopping_sender_gives_a_waiting_job_back_with_its_claim_released() -> None:
    r = rig(limit=1)
    r.handler(job("j1"), DELIVERY)
    r.stop.stop_after = 1.0  # told to stop one second into the 60-second wait
    with pytest.raises(SenderStopping):
        r.handler(job("j2"), DELIVERY)
    assert len(r.graph.sent) == 1
    assert r.joblog.jobs["j2"].status == "retrying"  # the next sender claims it at once
    assert r.clock.slept == [60.0]  # one pause, cut short by the stop in real life


def test_an_unknown_mailbox_is_rejected_before_anything_else() -> None:
    r = rig()
    with pytest.raises(SendRejected):
        r.handler(job("j1", mailbox="other@contoso.com"), DELIVERY)
    assert r.graph.sent == []
    (result,) = r.published
    assert result.status == "rejected" and result.error_code == "unknown_mailbox"
    assert r.joblog.jobs["j1"].status == "rejected"
    # The dead-letter hook that follows adds no second answer.
    r.handler.on_dead(job("j1", mailbox="other@contoso.com"), DELIVERY, Outcome(Action.DEAD))
    assert len(r.published) == 1


def test_a_sent_job_is_answered_from_the_log_and_not_sent_again() -> None:
    r = rig()
    r.handler(job("j1"), DELIVERY)
    r.handler(job("j1"), DELIVERY)
    assert len(r.graph.sent) == 1
    first, second = r.published
    assert first.internet_message_id == second.internet_message_id
    assert second.detail and "already sent" in second.detail


def test_a_claim_held_by_another_sender_is_retried_later() -> None:
    r = rig()
    r.joblog.claim_job("j1", stale_after=timedelta(minutes=10))
    with pytest.raises(JobInProgress):
        r.handler(job("j1"), DELIVERY)
    assert r.graph.sent == [] and r.published == []


def test_a_throttled_send_releases_the_claim_and_retries() -> None:
    r = rig()
    r.graph.fail_with.append(Throttled("429", code="ApplicationThrottled"))
    with pytest.raises(RetryableError):
        r.handler(job("j1"), DELIVERY)
    assert r.joblog.jobs["j1"].status == "retrying" and r.published == []
    r.handler(job("j1"), DELIVERY)  # the retry tier brings it back
    assert [p.status for p in r.published] == ["sent"]
    assert r.published[0].attempts == 2


def test_retries_used_up_answer_failed_once() -> None:
    r = rig()
    outcome = Outcome(Action.DEAD, reason="throttled", error="still 429", hint="later")
    r.joblog.claim_job("j1", stale_after=timedelta(minutes=10))
    r.joblog.mark_retry("j1", code="throttled", message="429")
    r.handler.on_dead(job("j1"), DELIVERY, outcome)
    r.handler.on_dead(job("j1"), DELIVERY, outcome)
    (result,) = r.published
    assert result.status == "failed" and result.error_code == "throttled"
    assert result.error_message == "still 429 (later)"


def test_send_as_denied_without_fallback_fails_with_the_grant_step() -> None:
    r = rig(send_as=["alice@contoso.com"])
    r.graph.fail_with.append(SendAsDenied("403", code="ErrorSendAsDenied"))
    with pytest.raises(Exception, match="ErrorSendAsDenied"):
        r.handler(job("j1", from_address="alice@contoso.com"), DELIVERY)
    (result,) = r.published
    assert result.status == "failed" and result.error_code == "send_as_denied"
    assert "Delegation > Send as" in (result.error_message or "")


def test_save_to_sent_items_false_is_reported_as_not_applied() -> None:
    r = rig()
    r.handler(job("j1", save_to_sent_items=False), DELIVERY)
    assert "Sent Items" in (r.published[0].detail or "")


def test_invalid_job_result_needs_a_readable_job_id() -> None:
    good = invalid_job_result(b'{"job_id": "x1", "mailbox": "support@contoso.com"}', "bad")
    no_box = invalid_job_result(b'{"job_id": "x2", "mailbox": "not an address"}', "bad")
    assert good is not None and good.status == "rejected" and good.mailbox == MAILBOX
    assert good.error_code == "contract_violation" and good.error_message == "bad"
    assert no_box is not None and no_box.job_id == "x2" and no_box.mailbox is None
    assert invalid_job_result(b"not json", "bad") is None
    assert invalid_job_result(b'{"job_id": 7}', "bad") is None
    assert invalid_job_result(b'{"job_id": "bad\\nid"}', "bad") is None


def test_small_messages_go_as_mime_and_big_ones_through_a_draft() -> None:
    from services.sender.domain.mime import build_mime
    from services.sender.domain.policy import SendDecision

    j = job("j1")
    decision = SendDecision(MAILBOX, MAILBOX)

    def build(atts: Any) -> Any:
        return build_mime(
            j, decision, message_id_domain="mailpipe.contoso.com", attachments=atts, thread=None
        )

    small = [AttachmentBytes("a.txt", b"x" * 1000)]
    big = [*small, AttachmentBytes("b.bin", b"y" * 3_000_000)]
    path, built = choose_path(build, small, SEND_LIMITS)
    assert path == "mime" and b"a.txt" in built.mime
    path, built = choose_path(build, big, SEND_LIMITS)
    assert path == "upload_session" and b"a.txt" not in built.mime
    r = rig()
    r.handler(
        job(
            "j2",
            attachments=[
                {"name": "b.bin", "content_base64": base64.b64encode(b"y" * 3_000_000).decode()}
            ],
        ),
        DELIVERY,
    )
    ((mime, extra),) = r.graph.drafts
    assert b"X-Mailpipe-Job-Id: j2" in mime and [a.name for a in extra] == ["b.bin"]
    assert r.published[0].status == "sent"
