"""The ticketer over real RabbitMQ, a real database (SQLite and PostgreSQL) and the Graph
simulator; the rig here is shared by the other ``test_ticketer_*`` integration tests.

Mail goes in as the fetcher sends it (InboundEmail on ``<ns>.inbound``); what comes out is read
back from the queues the real consumers use (``fetcher.processed``, ``sender``) and from a
queue this test binds to ``<ns>.events``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kombu import Exchange, Queue
from prometheus_client import CollectorRegistry

from libs.common.blobs import BlobStore
from libs.common.broker import Broker
from libs.common.broker.names import routing_key
from libs.common.contracts import (
    Address,
    AttachmentRef,
    Body,
    InboundEmail,
    OutboundEmail,
    OutboundResult,
    ProcessedEmail,
    RecordEvent,
)
from libs.common.mail import MailProvider
from libs.common.settings import MailpipeConfig
from libs.graphsim.testing import SimHandle
from services.sender.joblog import JobLog
from services.ticketer.app import build_ticketer, consumer_loops, lookup_pool
from services.ticketer.domain.acknowledgement import ack_job_id
from services.ticketer.store import RecordStore
from tests.broker_helpers import drain, names_for, wait_until

BOX = "support@contoso.com"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def mail(
    n: int, *, mailbox: str = BOX, from_: Address | None = None, **fields: Any
) -> InboundEmail:
    """Inbound mail number ``n`` as the fetcher publishes it; ``from_`` and ``fields``
    override any field."""
    data: dict[str, Any] = {
        "mailbox": mailbox,
        "message_id": f"AAMk-{n}=",
        "provider": "microsoft",
        "internet_message_id": f"<m{n}@customer.example>",
        "conversation_id": f"conv-{n}",
        "received_at": T0 + timedelta(seconds=n),
        "fetched_at": T0 + timedelta(seconds=n),
        "from": from_ or Address(address=f"user{n}@customer.example", name=f"User {n}"),
        "to": (Address(address=mailbox),),
        "subject": f"Printer {n} is broken",
        "body": Body(text=f"Hello, printer {n} jams. Grüße"),
    }
    data.update(fields)
    return InboundEmail.model_validate(data)


def sent_result(job: str, record_id: int, mid: str, **fields: Any) -> OutboundResult:
    data: dict[str, Any] = {
        "job_id": job,
        "mailbox": BOX,
        "status": "sent",
        "record_id": record_id,
        "internet_message_id": mid,
        "subject": f"Re: [#{record_id}] Printer",
        "to": (Address(address="user1@customer.example"),),
        "text": "We are on it.",
        "finished_at": datetime.now(UTC),
    }
    data.update(fields)
    return OutboundResult.model_validate(data)


@dataclass
class Rig:
    broker: Broker
    store: RecordStore
    blobs: BlobStore
    config: MailpipeConfig
    database_url: str
    events_queue: str
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    brokers: list[Broker] = field(default_factory=list)
    pools: list[MailProvider] = field(default_factory=list)
    _processed: list[ProcessedEmail] = field(default_factory=list)
    _events: list[RecordEvent] = field(default_factory=list)
    _jobs: list[OutboundEmail] = field(default_factory=list)

    def start(self, ticketers: int = 1, amqp_url: str = "") -> None:
        """Run ``ticketers`` ticketers, each with its own broker connection and two loops."""
        for _ in range(ticketers):
            broker = Broker(amqp_url, self.broker.names, heartbeat_s=10, prefetch=10)
            self.brokers.append(broker)
            graphs = lookup_pool(self.config)
            self.pools.append(graphs)
            ticketer = build_ticketer(
                self.store,
                self.blobs,
                broker,
                self.config,
                graphs,
                registry=CollectorRegistry(),
            )
            for name, loop in consumer_loops(broker, ticketer, self.stop):
                thread = threading.Thread(target=loop, name=name, daemon=True)
                thread.start()
                self.threads.append(thread)

    def send(self, *emails: InboundEmail) -> None:
        for email in emails:
            self.broker.publish(
                self.broker.names.inbound,
                routing_key("email", email.mailbox),
                email,
                correlation_id=email.message_id,
            )

    def send_result(self, result: OutboundResult, *, logged: bool = True) -> None:
        """Publish ``result``; with ``logged``, first write the sender's job log as the sender
        does before it answers ``sent`` (the ticketer stores only what the log confirms)."""
        if logged and result.status == "sent":
            log = JobLog.open(self.database_url, migrate=False)
            try:
                log.claim_job(result.job_id, mailbox=result.mailbox, record_id=result.record_id)
                log.mark_sent(
                    result.job_id,
                    internet_message_id=result.internet_message_id,
                    graph_request_id=None,
                    subject=result.subject,
                )
            finally:
                log.close()
        self.broker.publish(
            self.broker.names.events,
            routing_key("outbound", result.status),
            result,
            correlation_id=result.job_id,
            mandatory=False,
        )

    def processed(self, count: int | None = None) -> list[ProcessedEmail]:
        """Every ProcessedEmail so far; with ``count``, wait until there are that many."""

        def have() -> bool:
            got = drain(self.broker, self.broker.names.fetcher_processed.name)
            self._processed += [ProcessedEmail.from_json(g.body) for g in got]
            return count is None or len(self._processed) >= count

        assert wait_until(have, timeout_s=60), f"{len(self._processed)} of {count} processed"
        return list(self._processed)

    def events(self) -> list[RecordEvent]:
        got = drain(self.broker, self.events_queue)
        self._events += [RecordEvent.from_json(g.body) for g in got]
        return list(self._events)

    def jobs(self) -> list[OutboundEmail]:
        got = drain(self.broker, self.broker.names.sender.name)
        self._jobs += [OutboundEmail.from_json(g.body) for g in got]
        return list(self._jobs)

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)
        for broker in self.brokers:
            broker.close()
        for pool in self.pools:
            pool.close()


def _bind_events_queue(broker: Broker, name: str) -> None:
    conn = broker.connection()
    try:
        conn.connect()
        exchange = Exchange(broker.names.events, type="topic", durable=True)
        Queue(name, exchange, routing_key="record.#", durable=False).bind(conn.channel()).declare()
    finally:
        conn.release()


def _delete_queue(broker: Broker, name: str) -> None:
    conn = broker.connection()
    try:
        conn.connect()
        conn.channel().queue_delete(name)
    finally:
        conn.release()


@pytest.fixture
def make_rig(
    amqp_url: str, namespace: str, database_url: str, sim: SimHandle, tmp_path: Path
) -> Iterator[Any]:
    """``make_rig(ticketers=1, **mailbox_settings) -> Rig``, running; torn down afterwards."""
    made: list[Rig] = []
    broker = Broker(amqp_url, names_for(namespace))
    broker.declare()
    events_queue = f"{namespace}.test.events.{uuid.uuid4().hex[:6]}"
    _bind_events_queue(broker, events_queue)
    store = RecordStore.open(database_url)

    def make(ticketers: int = 1, **box: Any) -> Rig:
        rig = Rig(
            broker,
            store,
            BlobStore(tmp_path / "blobs"),
            sim.config(**box),
            database_url,
            events_queue,
        )
        rig.start(ticketers, amqp_url)
        made.append(rig)
        return rig

    try:
        yield make
    finally:
        for rig in made:
            rig.close()
        store.close()
        _delete_queue(broker, events_queue)
        broker.close()
        broker.delete()


# -- tests -------------------------------------------------------------------------------------


def test_new_request_makes_record_processed_event_and_ack(make_rig: Any) -> None:
    rig = make_rig(auto_acknowledge=True)
    email = mail(1, reply_to=(Address(address="desk@customer.example", name="Desk"),))
    rig.send(email)
    [processed] = rig.processed(1)
    assert (processed.outcome, processed.message_id, processed.mailbox) == (
        "created",
        email.message_id,
        BOX,
    )
    record_id = processed.record_id
    assert record_id is not None
    detail = rig.store.get_record(record_id)
    assert detail is not None
    assert detail.record.subject == "Printer 1 is broken"
    assert detail.record.requester is not None
    assert detail.record.requester.address == "user1@customer.example"
    assert [m.body_text for m in detail.messages] == ["Hello, printer 1 jams. Grüße"]
    assert wait_until(lambda: len(rig.events()) == 1)
    [event] = rig.events()
    assert (event.event, event.change, event.record_id) == ("created", "new_request", record_id)
    assert wait_until(lambda: len(rig.jobs()) == 1)
    [job] = rig.jobs()
    assert job.job_id == ack_job_id(BOX, record_id, email.message_id)
    assert job.job_id.startswith(f"ack:{BOX}:{record_id}:")
    assert job.record_id == record_id and job.auto_submitted == "auto-replied"
    assert [a.address for a in job.to] == ["user1@customer.example"]  # From, never Reply-To
    assert job.in_reply_to == email.internet_message_id
    assert job.text is not None and f"[#{record_id}]" in job.text

    # The same email again (a redelivery or a re-fetch): same outcome, nothing new.
    rig.send(email)
    first, again = rig.processed(2)
    assert again.outcome == first.outcome and again.record_id == first.record_id
    assert again.processed_at == first.processed_at
    assert len(rig.store.list_records()) == 1
    assert rig.store.count_acks_since("user1@customer.example", T0 - timedelta(days=1)) == 1
    assert wait_until(lambda: len(rig.jobs()) == 2)
    assert {j.job_id for j in rig.jobs()} == {job.job_id}  # the sender dedupes the job id


def test_requester_is_named_from_the_tenant_and_cached(make_rig: Any, sim: SimHandle) -> None:
    with sim.control() as control:
        control.post(
            "/_sim/users",
            json={"address": "alice@contoso.com", "display_name": "Alice Anders", "mailbox": False},
        ).raise_for_status()
    rig = make_rig()
    alice = Address(address="alice@contoso.com", name="alice")
    rig.send(mail(1, from_=alice), mail(2, from_=alice), mail(3))
    done = rig.processed(3)
    assert [p.outcome for p in done] == ["created"] * 3
    records = {r.id: r for r in rig.store.list_records()}
    names = sorted((r.requester.address, r.requester.name) for r in records.values() if r.requester)
    assert names == [
        ("alice@contoso.com", "Alice Anders"),
        ("alice@contoso.com", "Alice Anders"),
        ("user3@customer.example", "User 3"),
    ]
    cached = rig.store.get_requester("alice@contoso.com")
    assert cached is not None and cached.in_tenant and cached.display_name == "Alice Anders"
    outside = rig.store.get_requester("user3@customer.example")
    assert outside is not None and not outside.in_tenant
    with sim.control() as control:
        stats = control.get("/_sim/stats").json()["requests"]
    lookups = sum(stats.get("GET users/{u}", {}).values())
    assert lookups == 2  # alice once (cached for her second mail), user3 once


def test_missing_user_read_permission_never_blocks_a_record(make_rig: Any, sim: SimHandle) -> None:
    with sim.control() as control:
        control.post(
            "/_sim/apps",
            json={
                "tenant_id": sim.tenant_id,
                "client_id": "no-user-read",
                "client_secret": "s3cret-value",
                "permissions": ["Mail.ReadWrite", "Mail.Send"],
            },
        ).raise_for_status()
    rig = make_rig(client_id="no-user-read", client_secret="s3cret-value")
    rig.send(mail(1), mail(2))
    assert [p.outcome for p in rig.processed(2)] == ["created", "created"]
    assert rig.store.get_requester("user1@customer.example") is None


def test_attachments_html_and_non_ascii_are_stored(make_rig: Any) -> None:
    rig = make_rig()
    pdf = rig.blobs.put(b"%PDF-1.4 fake")
    png = rig.blobs.put(b"\x89PNG fake")
    html = (
        '<p>Der Drucker <b>druckt nicht</b> — 日本語</p><img src="cid:logo@x">'
        '<img src="https://tracker.example/p.gif"><script>alert(1)</script>'
    )
    rig.send(
        mail(
            1,
            subject="Drucker kaputt — ärgerlich",
            body=Body(html=html),
            attachments=(
                AttachmentRef(name="Rechnung ä.pdf", content_type="application/pdf", blob=pdf),
                AttachmentRef(
                    name="logo.png",
                    content_type="image/png",
                    blob=png,
                    is_inline=True,
                    content_id="logo@x",
                ),
            ),
        )
    )
    [done] = rig.processed(1)
    assert done.record_id is not None
    detail = rig.store.get_record(done.record_id)
    assert detail is not None
    assert detail.record.subject == "Drucker kaputt — ärgerlich"
    [message] = detail.messages
    assert message.body_text is not None and "druckt nicht" in message.body_text
    assert "日本語" in message.body_text
    assert message.body_html is not None
    assert "cid:logo@x" in message.body_html
    assert "tracker.example" not in message.body_html and "script" not in message.body_html
    assert [(a.name, a.sha256, a.inline, a.content_id) for a in message.attachments] == [
        ("Rechnung ä.pdf", pdf.sha256, False, None),
        ("logo.png", png.sha256, True, "logo@x"),
    ]
