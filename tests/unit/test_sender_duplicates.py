"""The sender's double-send paths over fakes: a lost answer, a failed log write, a stale or
taken-over claim, retries used up while another sender works. Each ends in one message out
and one result."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from libs.common.broker.names import RETRY_DELAYS_S
from libs.common.broker.policy import Action, Outcome
from libs.common.db.errors import StoreUnavailable
from libs.common.errors import ConfigError
from libs.common.mail import OutcomeUnknown
from libs.common.msgid import make_message_id
from services.sender.claim import ClaimLost, Heartbeat, SentNotLogged, log_sent
from services.sender.config import SenderSettings, check_claim_timing
from services.sender.dispatch import FOUND_IN_SENT_ITEMS
from services.sender.handler import JobInProgress
from services.sender.joblog import OUTCOME_UNKNOWN
from tests.mail_fake import message_id_of
from tests.unit.test_sender_handler import DELIVERY, MAILBOX, box, job, rig

STALE = timedelta(minutes=10)
DEAD = Outcome(Action.DEAD, reason="retries_exhausted", error="job_in_progress")


def our_id(job_id: str) -> str:
    return make_message_id(MAILBOX, job_id, box().id_domain)


def test_a_lost_answer_is_not_sent_again_when_sent_items_has_it() -> None:
    r = rig()
    r.graph.lose_answers = 1  # Graph sent it; the sender hears a 504
    with pytest.raises(OutcomeUnknown):
        r.handler(job("j1"), DELIVERY)
    assert len(r.graph.sent) == 1 and r.published == []
    entry = r.joblog.jobs["j1"]
    assert entry.status == "retrying" and entry.error_code == OUTCOME_UNKNOWN
    r.handler(job("j1"), DELIVERY)  # the retry tier brings it back
    assert len(r.graph.sent) == 1, "not sent a second time"
    assert r.graph.lookups == [our_id("j1")]
    (result,) = r.published
    assert result.status == "sent" and result.internet_message_id == our_id("j1")
    assert FOUND_IN_SENT_ITEMS in (result.detail or "") and result.attempts == 2
    assert r.joblog.jobs["j1"].status == "sent"


def test_a_lost_answer_is_looked_up_with_the_from_it_was_built_with() -> None:
    # Gmail files a message sent as an agent in the agent's own Sent: the port needs the From.
    r = rig(send_as=["alice@contoso.com"])
    r.graph.lose_answers = 1
    with pytest.raises(OutcomeUnknown):
        r.handler(job("j1", from_address="alice@contoso.com"), DELIVERY)
    r.handler(job("j1", from_address="alice@contoso.com"), DELIVERY)
    assert len(r.graph.sent) == 1 and [p.status for p in r.published] == ["sent"]
    assert r.graph.lookups == [our_id("j1")]
    assert r.graph.lookup_senders == ["alice@contoso.com"]


def test_a_lost_request_is_sent_on_the_retry_when_sent_items_lacks_it() -> None:
    r = rig()
    r.graph.fail_with = [OutcomeUnknown("sendMail failed: ReadTimeout", code="timeout")]
    with pytest.raises(OutcomeUnknown):
        r.handler(job("j1"), DELIVERY)
    assert r.graph.sent == []
    r.handler(job("j1"), DELIVERY)
    assert [message_id_of(m) for m in r.graph.sent] == [our_id("j1")]
    assert [p.status for p in r.published] == ["sent"]
    assert FOUND_IN_SENT_ITEMS not in (r.published[0].detail or "")


def test_a_first_attempt_does_not_look_in_sent_items() -> None:
    r = rig()
    r.handler(job("j1"), DELIVERY)
    assert r.graph.lookups == [] and len(r.graph.sent) == 1


def test_a_failed_log_write_is_retried_locally() -> None:
    r = rig()
    r.joblog.fail_mark_sent = 2
    r.handler(job("j1"), DELIVERY)
    assert len(r.graph.sent) == 1 and [p.status for p in r.published] == ["sent"]
    assert r.joblog.jobs["j1"].status == "sent"


def test_a_log_write_failing_for_good_keeps_the_claim_and_the_retry_finds_the_mail() -> None:
    r = rig()
    r.joblog.fail_mark_sent = 10
    with pytest.raises(SentNotLogged):
        r.handler(job("j1"), DELIVERY)
    assert len(r.graph.sent) == 1 and r.published == []
    assert r.joblog.jobs["j1"].status == "sending", "the claim is kept, not released"
    r.joblog.fail_mark_sent = 0
    r.joblog.now += STALE + timedelta(seconds=1)  # the claim goes stale, the job comes back
    r.handler(job("j1"), DELIVERY)
    assert len(r.graph.sent) == 1, "found in Sent Items, not sent again"
    (result,) = r.published
    assert result.status == "sent" and FOUND_IN_SENT_ITEMS in (result.detail or "")


def test_a_stale_claim_is_taken_over_after_a_look_in_sent_items() -> None:
    # A sender claimed jobs "a" and "b" and died; it had sent "a" (never logged) and not "b".
    first = rig()
    first.handler(job("a"), DELIVERY)
    r = rig()
    for job_id in ("a", "b"):
        r.joblog.claim_job(job_id, stale_after=STALE)
    r.graph.sent.append(first.graph.sent[0])
    with pytest.raises(JobInProgress):
        r.handler(job("a"), DELIVERY)  # still fresh: it may be a live sender's
    r.joblog.now += STALE + timedelta(seconds=1)
    r.handler(job("a"), DELIVERY)
    r.handler(job("b"), DELIVERY)
    assert sorted(message_id_of(m) for m in r.graph.sent) == sorted([our_id("a"), our_id("b")])
    assert r.graph.lookups == [our_id("a"), our_id("b")]
    by_job = {p.job_id: p for p in r.published}
    assert FOUND_IN_SENT_ITEMS in (by_job["a"].detail or "")
    assert FOUND_IN_SENT_ITEMS not in (by_job["b"].detail or "")
    assert {p.status for p in r.published} == {"sent"} and len(r.published) == 2


def test_a_live_claim_never_goes_stale_while_the_rate_limit_holds_it() -> None:
    r = rig(limit=1, stale_claim_s=0.2)  # heartbeat every 0.05 s
    stale = timedelta(seconds=0.2)
    seen: list[str] = []

    def long_wait(seconds: float) -> None:
        r.clock.sleep(seconds)
        r.joblog.now += timedelta(seconds=seconds)  # a wait far longer than the stale time
        r.joblog.touched.clear()
        assert r.joblog.touched.wait(10), "the heartbeat refreshed the claim"
        seen.append(r.joblog.claim_job("j2", stale_after=stale)[0])  # another sender tries

    r.stop.on_wait = long_wait
    r.handler(job("j1"), DELIVERY)
    r.handler(job("j2"), DELIVERY)  # waits a minute for the rate limit
    assert seen == ["in_progress"], "never taken over while in hand"
    assert len(r.graph.sent) == 2 and [p.status for p in r.published] == ["sent", "sent"]


def test_a_claim_taken_over_during_the_wait_is_not_sent() -> None:
    r = rig(limit=1, stale_claim_s=0.2)

    def taken_over(seconds: float) -> None:
        r.clock.sleep(seconds)
        # The database was out of reach; another sender found the claim stale and took it.
        r.joblog.now += timedelta(seconds=1)
        r.joblog.claim_job("j2", stale_after=timedelta(seconds=0.2))

    r.stop.on_wait = taken_over
    r.handler(job("j1"), DELIVERY)
    with pytest.raises(ClaimLost):
        r.handler(job("j2"), DELIVERY)
    assert len(r.graph.sent) == 1, "only j1 went out"
    entry = r.joblog.jobs["j2"]
    assert entry.status == "sending" and entry.attempts == 2, "the other sender's claim stays"


def test_retries_used_up_while_another_sender_holds_the_job_publish_nothing() -> None:
    r = rig()
    r.joblog.claim_job("j1", stale_after=STALE)  # a live sender has it
    r.handler.on_dead(job("j1"), DELIVERY, DEAD)
    assert r.published == [] and r.joblog.jobs["j1"].status == "sending"


def test_retries_used_up_after_a_lost_answer_find_the_mail_in_sent_items() -> None:
    r = rig()
    r.graph.lose_answers = 1
    with pytest.raises(OutcomeUnknown):
        r.handler(job("j1"), DELIVERY)
    r.handler.on_dead(job("j1"), DELIVERY, DEAD)
    (result,) = r.published
    assert result.status == "sent" and FOUND_IN_SENT_ITEMS in (result.detail or "")
    assert r.joblog.jobs["j1"].status == "sent" and len(r.graph.sent) == 1


def test_retries_used_up_with_nothing_in_sent_items_fail_once() -> None:
    r = rig()
    r.joblog.claim_job("j1", stale_after=STALE)
    r.joblog.now += STALE + timedelta(seconds=1)  # its sender died
    r.handler.on_dead(job("j1"), DELIVERY, DEAD)
    assert [p.status for p in r.published] == ["failed"]
    assert r.joblog.jobs["j1"].status == "failed"


def test_log_sent_retries_then_gives_up_with_a_retryable_error() -> None:
    slept: list[float] = []
    calls: list[int] = []

    def failing() -> None:
        calls.append(1)
        raise StoreUnavailable("down")

    with pytest.raises(SentNotLogged) as info:
        log_sent(failing, slept.append)
    assert len(calls) == len(slept) + 1 and info.value.retryable
    assert "Sent Items" in (info.value.hint or "")


def test_the_heartbeat_beats_on_its_own_and_confirm_sees_a_lost_claim() -> None:
    beat = threading.Event()
    ours = {"claim": True}

    def touch() -> bool:
        beat.set()
        return ours["claim"]

    with Heartbeat(touch, 0.01) as heart:
        assert beat.wait(10), "a beat without being asked"
        heart.confirm()  # still ours
        ours["claim"] = False  # another sender took it over
        with pytest.raises(ClaimLost):
            heart.confirm()
    assert heart.lost


def test_a_stale_time_the_retry_tiers_cannot_outlast_is_refused() -> None:
    check_claim_timing(SenderSettings(), RETRY_DELAYS_S)  # 600 s < 756 s - 60 s
    check_claim_timing(SenderSettings(stale_claim_s=2), RETRY_DELAYS_S)
    with pytest.raises(ConfigError) as info:
        check_claim_timing(SenderSettings(stale_claim_s=700), RETRY_DELAYS_S)
    assert "MAILPIPE_SENDER_STALE_CLAIM_S" in (info.value.hint or "")
    assert "696" in (info.value.hint or "")
    assert SenderSettings(stale_claim_s=600).heartbeat_s < 600
