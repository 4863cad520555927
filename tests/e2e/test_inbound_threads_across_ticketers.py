"""Three ticketer processes on one queue, 300 request/reply pairs published back to back (each
reply right behind its request, so two ticketers usually hold the pair at the same moment):
300 records, each holding its request and its reply; nothing lost, nothing twice. On SQLite and
on PostgreSQL, and on both providers (Gmail on SQLite, fewer pairs: ``HEAVY_MATRIX``,
``scaled``; docs/ticketer.md, "Threads across ticketers")."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest

from libs.common.broker import routed
from libs.common.contracts import Address, InboundEmail, MailHeaders
from tests.e2e.harness import pipeline
from tests.e2e.worlds import HEAVY_MATRIX, scaled
from tests.integration.test_ticketer_rig import mail

TICKETERS = ("ticketer-1", "ticketer-2", "ticketer-3")
PAIRS = 300


def pair(n: int, mailbox: str, provider: str) -> tuple[InboundEmail, InboundEmail]:
    """Request ``n`` and its reply, as ``provider``'s fetcher publishes them. No conversation
    ids: only the Message-IDs thread them."""
    sender = Address(address=f"user{n % 10}@customer.example", name=f"User {n % 10}")
    ids = {"provider": provider, "conversation_id": None}
    request = mail(n, mailbox=mailbox, from_=sender, message_id=_id(n, provider), **ids)
    parent = request.internet_message_id
    assert parent is not None
    reply = mail(
        PAIRS + n,
        mailbox=mailbox,
        from_=sender,
        message_id=_id(PAIRS + n, provider),
        **ids,
        subject=f"Re: Printer {n} is broken",
        headers=MailHeaders(in_reply_to=parent, references=(parent,)),
    )
    return request, reply


def _id(n: int, provider: str) -> str:
    """The provider's id of mail ``n``: Graph's opaque one, Gmail's hexadecimal one."""
    return f"AAMk-{n}=" if provider == "microsoft" else f"{0x18C0000000000000 + n:x}"


@pytest.mark.parametrize(("database_url", "provider"), HEAVY_MATRIX, indirect=True)
def test_a_request_and_its_reply_never_split_across_three_ticketers(
    tmp_path: Path, amqp_url: str, database_url: str, provider: str
) -> None:
    with pipeline(tmp_path, amqp_url, database_url=database_url, provider=provider) as stack:
        count = scaled(stack.world, PAIRS)
        mailbox = stack.mailboxes[0]
        pairs = [pair(n, mailbox, provider) for n in range(count)]
        for name in TICKETERS:
            stack.start("ticketer", name=name)
        for name in TICKETERS:
            stack.wait_ready(name)
        broker = stack.broker()
        try:
            broker.declare()
            broker.publish_many(
                [routed(broker.names, m, correlation_id=m.message_id) for p in pairs for m in p]
            )
        finally:
            broker.close()
        stack.wait_until(
            lambda: stack.count("processed_log") == 2 * count,
            timeout_s=300,
            what=f"{2 * count} mails handled",
        )

        log = stack.processed_log()
        assert len(log) == 2 * count, "one outcome per mail"
        records = stack.rows("records")
        messages = stack.rows("record_messages")
        assert len(records) == count, "one record per pair, none split"
        assert len(messages) == 2 * count, "every mail stored once"
        held: dict[int, set[str]] = defaultdict(set)
        for message in messages:
            held[message["record_id"]].add(message["internet_message_id"])
        assert sorted(held.values(), key=sorted) == sorted(
            ({request.internet_message_id, reply.internet_message_id} for request, reply in pairs),
            key=sorted,
        ), "each record holds its request and its reply"
        counts = Counter(m["record_id"] for m in messages)
        assert {r["id"]: r["message_count"] for r in records} == dict(counts)
        for request, reply in pairs:
            asked = log[(mailbox, request.message_id)]
            answered = log[(mailbox, reply.message_id)]
            assert asked["record_id"] == answered["record_id"] is not None
            assert {asked["outcome"], answered["outcome"]} == {"created", "appended"}

        handled = {
            name: sum(e["event"] == "email handled" for e in stack.log_events(name))
            for name in TICKETERS
        }
        print(f"emails handled per ticketer: {handled}")
        assert sum(handled.values()) == 2 * count
        assert all(handled.values()), "every ticketer took part"
