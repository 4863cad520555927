"""Smoke test of the inbound path with the fetcher as its own process: seeded mail reaches the
ticketer queue, a stand-in ticketer (in this test) answers with ProcessedEmail, and the mail
ends in Recoverable Items (the trash on Gmail); after a ``kill -9`` and a restart the fetcher
goes on from its saved delta link (history id) and nothing is lost. On both providers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from libs.common.broker import Delivery, routing_key
from libs.common.contracts import InboundEmail, ProcessedEmail
from tests.e2e.harness import Stack, pipeline
from tests.integration.fetcher_rig import SUPPORT, mail


@contextmanager
def stand_in_ticketer(stack: Stack, seen: list[InboundEmail]) -> Iterator[None]:
    """Consume the ticketer queue and answer each mail with ProcessedEmail ``created``."""
    broker = stack.broker()
    stop = threading.Event()
    lock = threading.Lock()

    def handle(email: InboundEmail, delivery: Delivery) -> None:
        with lock:
            seen.append(email)
            record_id = len(seen)
        answer = ProcessedEmail(
            mailbox=email.mailbox,
            provider=email.provider,
            message_id=email.message_id,
            internet_message_id=email.internet_message_id,
            outcome="created",
            record_id=record_id,
            processed_at=datetime.now(UTC),
        )
        broker.publish(
            broker.names.processed,
            routing_key("processed", email.mailbox),
            answer,
            correlation_id=delivery.correlation_id,
        )

    thread = threading.Thread(
        target=broker.consume,
        args=(broker.names.ticketer, InboundEmail, handle),
        kwargs={"stop": stop},
        daemon=True,
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=60)
        broker.close()


def test_seeded_mail_ends_in_recoverable_items_across_a_fetcher_kill(
    tmp_path: Path, amqp_url: str, provider: str
) -> None:
    with pipeline(
        tmp_path, amqp_url, mailboxes=[SUPPORT], provider=provider, poll_interval_s=0.5
    ) as stack:
        removed = stack.world.removed_folder
        first = set(stack.seed_many(mail(n) for n in range(5)))
        seen: list[InboundEmail] = []
        stack.start("fetcher")
        stack.wait_ready("fetcher")
        with stand_in_ticketer(stack, seen):
            stack.wait_until(lambda: stack.folders().get(removed) == 5, what="first five deleted")
            assert stack.folders()["inbox"] == 0
            assert {e.message_id for e in seen} == first

            stack.kill("fetcher")
            later = set(stack.seed_many(mail(n) for n in range(5, 8)))
            stack.restart("fetcher")
            stack.wait_until(lambda: stack.folders().get(removed) == 8, what="all eight deleted")
        assert stack.folders()["inbox"] == 0
        assert {e.message_id for e in seen} == first | later
        assert len(seen) == 8, "the restart did not read old mail again"
        assert "mailpipe_fetcher_mails_published_total" in stack.processes["fetcher"].metrics()
        assert stack.stop("fetcher") == 0
        events = stack.log_events("fetcher")
        assert sum(e["event"] == "mail published" for e in events) == 8
        log = stack.log("fetcher")
        assert not [secret for secret in stack.world.secrets() if secret in log]
