"""The provider misbehaving — 429s, 503s and tokens that expire within seconds, on every
request and every batch item — changes nothing in the outcome: the two-wave scenario of
test_inbound_pipeline.py (fewer mails) ends in exactly the expected records and threads, the
inboxes empty and every mail where removed mail is kept. Both simulators take the same knobs
(libs/graphsim, libs/gmailsim: "Quota and faults"); only the name of their throttling count
differs (``MailWorld.throttled``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.corpus import Corpus
from tests.e2e.harness import pipeline
from tests.e2e.scenario import deleted_before_processed, problems_text, run_two_waves
from tests.e2e.worlds import HEAVY_MATRIX

FAULTS = {"throttle_ratio": 0.1, "error_ratio": 0.05, "token_ttl_s": 3, "retry_after_s": 1}


@pytest.mark.parametrize(("database_url", "provider"), HEAVY_MATRIX, indirect=True)
def test_provider_faults_end_in_the_same_final_state(
    tmp_path: Path, amqp_url: str, database_url: str, provider: str
) -> None:
    with pipeline(
        tmp_path,
        amqp_url,
        database_url=database_url,
        provider=provider,
        faults=FAULTS,
        poll_interval_s=0.5,
        auto_acknowledge=True,
        auto_ack_per_hour=1000,
    ) as stack:
        stack.start("fetcher")
        stack.start("ticketer")
        stack.start("sender", MAILPIPE_SENDER_RATE_PER_MINUTE="100000")
        world = stack.world
        corpus = Corpus(seed=21, mailboxes=stack.mailboxes)
        seeded, outcomes, requests = run_two_waves(stack, corpus, 60, timeout_s=400)
        assert not outcomes.problems, problems_text(outcomes.problems)
        assert outcomes.kinds["reply"] > 30 and outcomes.kinds["delivery_failure"] > 0

        stats = stack.stats()
        throttled = world.throttled(stats)
        print(
            f"{len(seeded)} mails; {provider} faults seen: {throttled} throttled, "
            f"{stats['token_requests']} token requests"
        )
        assert throttled > 0, "no fault was injected"
        assert stats["token_requests"] > 3, "tokens were not renewed"
        for box in stack.mailboxes:
            assert stack.folders(box)["inbox"] == 0
            assert {s.message_id for s in seeded if s.mail.mailbox == box} <= stack.removed(box)
        assert sum(len(stack.sent(box)) for box in stack.mailboxes) == requests
        assert deleted_before_processed(stack, seeded) == []
