"""The sender's handler over fakes (no broker, Graph or database): the order of its steps,
what it answers, the rate limit holding jobs instead of failing them."""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from libs.common.broker import Delivery
from libs.common.broker.policy import Action, Outcome
from libs.common.contracts import OutboundEmail, OutboundResult
from libs.common.db.errors import StoreUnavailable
from libs.common.errors import RetryableError
from libs.common.mail import SendAsDenied, Throttled
from libs.common.settings import MailboxConfig, MailpipeConfig
from services.sender.config import SenderSettings
from services.sender.domain.attachments import AttachmentBytes
from services.sender.domain.policy import SendRejected
from services.sender.domain.rate import SendRateLimiter
from services.sender.handler import JobInProgress, SenderPorts, SendHandler
from services.sender.joblog import DEFAULT_STALE_AFTER, Claim, JobLogPort, JobStatus, SentJob
from services.sender.results import invalid_job_result
from services.sender.transport import choose_path
from tests.mail_fake import SEND_LIMITS, FakeMailbox

MAILBOX = "support@contoso.com"
DELIVERY = Delivery(message_id="m", correlation_id="c")


class FakeJobLog:
    """The job log's rules over a dict; ``now`` is its clock, moved by the tests."""

    def __init__(self) -> None:
        self.jobs: dict[str, SentJob] = {}
        self.now = datetime.now(UTC)
        self.touched = threading.Event()
        #: The next N ``mark_sent`` calls fail as a database outage would.
        self.fail_mark_sent = 0

    def _put(self, job_id: str, status: JobStatus, **values: Any) -> SentJob:
        old = self.jobs.get(job_id)
        attempts = old.attempts if old else 1
        # The first claim's mailbox and record stay, as in the real log.
        mailbox, record_id = (old.mailbox, old.record_id) if old else (None, None)
        self.jobs[job_id] = SentJob(
            job_id, status, attempts, self.now, mailbox=mailbox, record_id=record_id, **values
        )
        return self.jobs[job_id]

    def claim_job(
        self,
        job_id: str,
        *,
        stale_after: timedelta = DEFAULT_STALE_AFTER,
        mailbox: str | None = None,
        record_id: int | None = None,
    ) -> tuple[Claim, SentJob]:
        old = self.jobs.get(job_id)
        if old is not None and old.status in ("sent", "failed", "rejected"):
            return old.status, old
        if old is not None and self.is_live(old, stale_after=stale_after):
            return "in_progress", old
        if old is not None:
            self.jobs[job_id] = replace(
                old, status="sending", attempts=old.attempts + 1, updated_at=self.now
            )
            return "resume", self.jobs[job_id]
        owner = mailbox.lower() if mailbox else None
        self.jobs[job_id] = SentJob(
            job_id, "sending", 1, self.now, mailbox=owner, record_id=record_id
        )
        return "new", self.jobs[job_id]

    def touch(self, job_id: str, *, attempts: int) -> bool:
        old = self.jobs.get(job_id)
        if old is None or old.status != "sending" or old.attempts != attempts:
            return False
        self.jobs[job_id] = replace(old, updated_at=self.now)
        self.touched.set()
        return True

    def is_live(self, entry: SentJob, *, stale_after: timedelta) -> bool:
        return entry.status == "sending" and entry.updated_at > self.now - stale_after

    def get_job(self, job_id: str) -> SentJob | None:
        return self.jobs.get(job_id)

    def mark_sent(self, job_id: str, **values: Any) -> SentJob:
        if self.fail_mark_sent:
            self.fail_mark_sent -= 1
            raise StoreUnavailable("the database dropped the connection")
        return self._put(job_id, "sent", **values)

    def mark_failed(self, job_id: str, *, code: str, message: str) -> SentJob:
        return self._put(job_id, "failed", error_code=code, error_message=message)

    def mark_rejected(self, job_id: str, *, code: str, message: str) -> SentJob:
        return self._put(job_id, "rejected", error_code=code, error_message=message)

    def mark_retry(self, job_id: str, *, code: str, message: str) -> SentJob:
        return self._put(job_id, "retrying", error_code=code, error_message=message)

    def close(self) -> None:
        pass


# mypy holds each fake to the port it stands for: a fake that drifts fails the type check.
_JOBLOG_IS_A_PORT: JobLogPort = FakeJobLog()


@dataclass
class Clock:
    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def box(**overrides: Any) -> MailboxConfig:
    data = {"address": MAILBOX, "tenant_id": "t", "client_id": "c", "client_secret": "s"}
    return MailboxConfig.model_validate(data | overrides)


@dataclass
class Rig:
    handler: SendHandler
    joblog: FakeJobLog
    graph: FakeMailbox
    published: list[OutboundResult]
    clock: Clock


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
    joblog, clock = FakeJobLog(), Clock()
    # One fake per mailbox (``graph`` is MAILBOX's); the agents a mailbox may send as have
    # their grant, as the doctor checks.
    graph = FakeMailbox(address=MAILBOX, send_as=set(mailbox.get("send_as", ())))
    fakes = {MAILBOX: graph}

    def mail_for(b: MailboxConfig) -> FakeMailbox:
        return fakes.setdefault(b.address, FakeMailbox(address=b.address, send_as=set(b.send_as)))

    published: list[OutboundResult] = []
    ports = SenderPorts(
        config=MailpipeConfig(mailboxes=(box(**mailbox),)),
        settings=SenderSettings(rate_per_minute=limit, stale_claim_s=stale_claim_s),
        joblog=joblog,
        read_blob=lambda ref: b"",
        mail_for=mail_for,
        thread_of=lambda record_id: None,
        record_mailbox=lambda record_id: records.get(record_id, MAILBOX),
        blob_size=lambda ref: blobs.get(ref.sha256),
        publish=published.append,
        limiter=SendRateLimiter(limit=limit, clock=clock),
        sleep=clock.sleep,
    )
    return Rig(SendHandler(ports), joblog, graph, published, clock)


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
