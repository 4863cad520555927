"""The whole inbound pipeline as separate processes — fetcher, ticketer and sender — over the
Graph simulator or the Gmail simulator (the ``provider`` fixture), a real RabbitMQ, and SQLite
or PostgreSQL.

500 seeded mails in two waves (see tests/e2e/scenario.py; on Gmail about 120, the same mix, as
its quota paces a mailbox: ``MailWorld.volume``): new requests of every shape, loops,
stray out-of-office answers and bounces; then, once the records exist and their
acknowledgements went out, replies by token, by In-Reply-To and by conversation, out-of-office
answers to our acknowledgements, and bounces of them. Every mail must end with its one
expected outcome, on the right record, out of the inbox and where removed mail is kept
(Recoverable Items on Microsoft, the trash on Google).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.corpus import Corpus
from tests.e2e.harness import Stack, pipeline
from tests.e2e.scenario import (
    Seeded,
    acks_sent,
    deleted_before_processed,
    problems_text,
    run_two_waves,
)
from tests.e2e.worlds import HEAVY_MATRIX, scaled

FAST_SENDER = {"MAILPIPE_SENDER_RATE_PER_MINUTE": "100000"}


# The bound only keeps a broken run from hanging (a loaded machine can slow a run a lot).
@pytest.mark.timeout(600)
@pytest.mark.parametrize(("database_url", "provider"), HEAVY_MATRIX, indirect=True)
def test_500_mails_become_the_expected_records_and_threads(
    tmp_path: Path, amqp_url: str, database_url: str, provider: str
) -> None:
    with pipeline(
        tmp_path,
        amqp_url,
        database_url=database_url,
        provider=provider,
        poll_interval_s=0.5,
        auto_acknowledge=True,
        auto_ack_per_hour=1000,
    ) as stack:
        for service in ("fetcher", "ticketer"):
            stack.start(service)
        stack.start("sender", **FAST_SENDER)
        for name in stack.processes:
            stack.wait_ready(name)
        corpus = Corpus(seed=4, mailboxes=stack.mailboxes)
        world = stack.world
        seeded, outcomes, requests = run_two_waves(stack, corpus, scaled(world, 220))
        assert len(seeded) >= scaled(world, 500)
        assert not outcomes.problems, problems_text(outcomes.problems)
        print(f"outcomes of {len(seeded)} mails: {dict(outcomes.kinds)}")
        assert outcomes.kinds["reply"] > scaled(world, 150)
        assert outcomes.kinds["auto_reply"] > scaled(world, 10)
        assert outcomes.kinds["delivery_failure"] > scaled(world, 10)
        assert outcomes.kinds["ignored:loop"] >= scaled(world, 30)
        assert outcomes.kinds["ignored:auto_reply"] >= scaled(world, 20)
        assert outcomes.kinds["ignored:bounce_unmatched"] >= scaled(world, 10)
        check_bounces_and_bodies(stack, seeded, outcomes.record_of)
        # One acknowledgement per new record, none for answers, loops or automatic mail.
        assert sum(len(stack.sent(box)) for box in stack.mailboxes) == requests
        assert set(acks_sent(stack)) == set(outcomes.record_of.values())

        for box in stack.mailboxes:
            assert stack.folders(box)["inbox"] == 0
            assert {s.message_id for s in seeded if s.mail.mailbox == box} <= stack.removed(box)
        assert deleted_before_processed(stack, seeded) == []


def check_bounces_and_bodies(stack: Stack, seeded: list[Seeded], record_of: dict[str, int]) -> None:
    """Bounces name the acknowledgement they return; attachments, inline images and non-ASCII
    text are stored; HTML is sanitised; replies keep only their new text."""
    failures = stack.rows("delivery_failures")
    returned = {(f["record_id"], (f["original_message_id"] or "").lower()) for f in failures}
    messages = {(m["internet_message_id"] or "").lower(): m for m in stack.rows("record_messages")}
    attachments = {a["message_id"]: a for a in stack.rows("record_attachments")}
    records = {r["id"]: r for r in stack.rows("records")}
    for item in seeded:
        mail = item.mail
        if mail.expect.kind == "delivery_failure":
            record = record_of[str(mail.expect.thread)]
            assert (record, str(mail.answers).lower()) in returned, mail.key
        stored = messages.get(mail.message_id.lower())
        if stored is None:
            continue
        if "attachment" in mail.key or "inline" in mail.key:
            assert stored["id"] in attachments, f"{mail.key}: no attachment stored"
        if "req-inline" in mail.key:
            image = attachments[stored["id"]]
            assert (image["inline"], image["content_id"]) == (True, "logo@customer"), mail.key
        if "non_ascii" in mail.key:
            assert records[stored["record_id"]]["subject"] == mail.subject
            assert "Grüße aus Köln" in (stored["body_text"] or ""), mail.key
        if "req-html" in mail.key or "req-inline" in mail.key:
            assert "<b>bold</b>" in (stored["body_html"] or ""), mail.key
            assert "<script" not in (stored["body_html"] or ""), mail.key
        if mail.expect.kind == "reply":
            assert "it happened again" in (stored["body_text"] or "")
            assert "> Please keep the number" not in (stored["body_text"] or ""), mail.key
