"""The distributed services on RabbitMQ: acknowledgements wait in the outbox while no sender
runs, survive a ``kill -9`` of the ticketer and of the sender mid-way, and each one is sent
exactly once and confirmed by the sender's answer (any ``OutboundResult`` reaches the ticketer
through ``outbound.*``). On both providers (the ``provider`` fixture)."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.harness import Stack, pipeline
from tests.integration.fetcher_rig import SUPPORT, mail

MAILS = 6


def _pending(stack: Stack) -> int:
    return sum(r["confirmed_at"] is None for r in stack.rows("outbox"))


def test_acks_survive_kill_9_of_ticketer_and_sender_and_go_out_once(
    tmp_path: Path, amqp_url: str, provider: str
) -> None:
    with pipeline(
        tmp_path,
        amqp_url,
        mailboxes=[SUPPORT],
        provider=provider,
        auto_acknowledge=True,
        poll_interval_s=0.5,
    ) as stack:
        stack.seed_many(
            [mail(n, sender=f"customer{n}@customer.example") for n in range(MAILS)], SUPPORT
        )
        stack.start("fetcher")
        stack.start("ticketer")
        stack.wait_until(
            lambda: stack.count("outbox") == MAILS, what="every acknowledgement in the outbox"
        )
        assert _pending(stack) == MAILS  # no sender yet: nobody answered
        stack.kill("ticketer")
        stack.restart("ticketer")
        stack.wait_ready("ticketer")

        # Two sends a minute: two go, the sender dies holding the rest.
        stack.start("sender", MAILPIPE_SENDER_RATE_PER_MINUTE="2")
        stack.wait_until(lambda: len(stack.sent(SUPPORT)) >= 1, what="the first ack sent")
        stack.kill("sender")
        before = len(stack.sent(SUPPORT))
        assert before < MAILS
        stack.restart("sender", MAILPIPE_SENDER_STALE_CLAIM_S="3")
        stack.wait_until(
            lambda: len(stack.sent(SUPPORT)) >= MAILS and _pending(stack) == 0,
            timeout_s=180,
            what="every acknowledgement sent and answered",
        )
        sent = stack.sent(SUPPORT)
        records = stack.records()
        statuses = sorted(r["result_status"] for r in stack.rows("outbox"))

    assert sorted(str(m["subject"]) for m in sent) == sorted(
        f"Re: [#{r.id}] {r.subject}" for r in records
    ), "each record's acknowledgement exactly once"
    assert statuses == ["sent"] * MAILS
