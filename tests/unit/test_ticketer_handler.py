"""The ticketer's decisions over in-memory fakes of its ports (no broker, database or Graph)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from libs.common.blobs import BlobMissingError
from libs.common.broker.policy import Action, Delivery, Outcome
from libs.common.contracts import (
    Address,
    AttachmentRef,
    BlobRef,
    Body,
    InboundEmail,
    MailHeaders,
    OutboundEmail,
    OutboundResult,
    ProcessedEmail,
    RecordEvent,
)
from libs.common.errors import BrokerError, ContractError
from libs.common.msgid import make_message_id
from libs.common.settings import MailboxConfig, MailpipeConfig
from services.ticketer.domain.acknowledgement import ack_job_id
from services.ticketer.domain.sentcheck import LoggedFacts
from services.ticketer.handler import Ticketer
from services.ticketer.metrics import TicketerMetrics
from services.ticketer.ports import Outbox
from services.ticketer.reading import BadMimeError
from services.ticketer.store.models import (
    NewMessage,
    Party,
    Requester,
    WriteResult,
)
from tests.blobs_fake import FakeBlobs
from tests.records_fake import NOW, FakeStore

BOX = "help@contoso.com"


# -- fakes -------------------------------------------------------------------------------------


@dataclass
class FakeOutbox:
    processed_: list[ProcessedEmail] = field(default_factory=list)
    events: list[RecordEvent] = field(default_factory=list)
    jobs: list[OutboundEmail] = field(default_factory=list)

    def publish(self, messages: Sequence[ProcessedEmail | RecordEvent | OutboundEmail]) -> None:
        for message in messages:
            if isinstance(message, ProcessedEmail):
                self.processed_.append(message)
            elif isinstance(message, RecordEvent):
                self.events.append(message)
            else:
                self.jobs.append(message)


# mypy holds each fake to the port it stands for: a fake that drifts fails the type check.
_FAKE_OUTBOX: Outbox = FakeOutbox()


@dataclass
class Rig:
    store: FakeStore
    blobs: FakeBlobs
    outbox: FakeOutbox
    ticketer: Ticketer
    lookups: list[str]
    #: ``catch_up`` calls (their limits): one per batch, for senders an outage left unknown.
    catch_ups: list[int]


def make_rig(*, lookup: dict[str, Requester] | None = None, **box: Any) -> Rig:
    config = MailpipeConfig(
        mailboxes=(
            MailboxConfig(address=BOX, tenant_id="t", client_id="c", client_secret="s", **box),
        )
    )
    store, blobs, outbox, asked = FakeStore(), FakeBlobs(), FakeOutbox(), []
    catch_ups: list[int] = []

    class Requesters:
        def __call__(self, mailbox: str, address: str) -> Requester | None:
            asked.append(address)
            return (lookup or {}).get(address)

        def catch_up(self, limit: int = 2) -> int:
            catch_ups.append(limit)
            return 0

    ticketer = Ticketer(store, blobs, outbox, config, requesters=Requesters(), clock=lambda: NOW)
    return Rig(store, blobs, outbox, ticketer, asked, catch_ups)


def mail(n: int, **fields: Any) -> InboundEmail:
    data: dict[str, Any] = {
        "mailbox": BOX,
        "message_id": f"g{n}",
        "provider": "microsoft",
        "internet_message_id": f"<m{n}@customer.example>",
        "conversation_id": f"conv-{n}",
        "received_at": NOW,
        "fetched_at": NOW,
        "from": Address(address=f"user{n}@customer.example", name=f"User {n}"),
        "to": (Address(address=BOX),),
        "subject": f"Printer {n} is broken",
        "body": Body(text=f"Hello, printer {n} jams."),
    }
    data.update(fields)
    return InboundEmail.model_validate(data)


DELIVERY = Delivery(message_id="x", correlation_id="c")


# -- tests -------------------------------------------------------------------------------------


def test_new_request_creates_a_record_then_publishes_processed_and_event() -> None:
    rig = make_rig()
    rig.ticketer.handle(mail(1))
    assert list(rig.store.records) == [1]
    [processed] = rig.outbox.processed_
    assert (processed.outcome, processed.record_id, processed.message_id) == ("created", 1, "g1")
    [event] = rig.outbox.events
    assert (event.event, event.change, event.record_id, event.message_count) == (
        "created",
        "new_request",
        1,
        1,
    )
    assert rig.outbox.jobs == []  # auto-acknowledgement is off by default


def test_redelivery_republishes_the_same_outcome_without_a_second_record() -> None:
    rig = make_rig(auto_acknowledge=True)
    rig.ticketer.handle(mail(1))
    rig.ticketer.handle(mail(1))
    assert len(rig.store.records) == 1
    first, second = rig.outbox.processed_
    assert first == second
    assert [e.event for e in rig.outbox.events] == ["created", "created"]  # at-least-once
    assert len(rig.store.acks) == 1
    assert rig.outbox.jobs[0] == rig.outbox.jobs[1]  # same job id: the sender dedupes


def test_auto_acknowledgement_fields() -> None:
    rig = make_rig(auto_acknowledge=True)
    email = mail(
        1,
        reply_to=(Address(address="desk@customer.example"),),
        headers=MailHeaders(references=("<root@customer.example>",)),
    )
    rig.ticketer.handle(email)
    [job] = rig.outbox.jobs
    assert job.job_id == ack_job_id(BOX, 1, email.message_id)
    assert job.record_id == 1
    assert job.auto_submitted == "auto-replied"
    assert [a.address for a in job.to] == ["user1@customer.example"]  # From, never Reply-To
    assert job.subject == "Re: Printer 1 is broken"
    assert job.in_reply_to == "<m1@customer.example>"
    assert job.references == ("<root@customer.example>", "<m1@customer.example>")
    assert job.text is not None and "[#1]" in job.text


def test_auto_acknowledgement_rate_limit_per_recipient() -> None:
    rig = make_rig(auto_acknowledge=True, auto_ack_per_hour=2)
    for n in range(1, 5):
        rig.ticketer.handle(mail(n, **{"from": Address(address="same@customer.example")}))
    assert len(rig.store.records) == 4
    assert [j.record_id for j in rig.outbox.jobs] == [1, 2]


def test_no_acknowledgement_when_the_sender_asks_for_none() -> None:
    rig = make_rig(auto_acknowledge=True)
    rig.ticketer.handle(mail(1, headers=MailHeaders(x_auto_response_suppress="All")))
    assert len(rig.store.records) == 1
    assert rig.outbox.jobs == []


def ack_rig(**box: Any) -> tuple[Rig, CollectorRegistry]:
    """A rig with acknowledgements on and its metrics on a registry the test can read."""
    registry = CollectorRegistry()
    config = MailpipeConfig(
        mailboxes=(
            MailboxConfig(
                address=BOX,
                tenant_id="t",
                client_id="c",
                client_secret="s",
                auto_acknowledge=True,
                **box,
            ),
        )
    )
    store, blobs, outbox = FakeStore(), FakeBlobs(), FakeOutbox()
    metrics = TicketerMetrics(registry)
    ticketer = Ticketer(store, blobs, outbox, config, metrics=metrics, clock=lambda: NOW)
    return Rig(store, blobs, outbox, ticketer, [], []), registry


def skipped(registry: CollectorRegistry, reason: str) -> float:
    labels = {"mailbox": BOX, "reason": reason}
    return registry.get_sample_value("mailpipe_ticketer_auto_acks_skipped_total", labels) or 0.0


@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        ("someone@contoso.com", "own_domain"),
        ("it@eu.contoso.com", "own_domain"),
        ("ops@mailpipe.contoso.com", "own_domain"),  # our Message-ID domain
        ("bob@fabrikam.example", "own_domain"),  # an agent's send-as domain
        ("support@contoso.com.evil.org", "lookalike"),
        ("support@contoso-com.evil.org", "lookalike"),
        ("support@c\u043entoso.com", "lookalike"),  # Cyrillic o
        ("support@xn--cntoso-wqf.com", "lookalike"),  # the same, as punycode
        ("support@c0ntoso.com", "lookalike"),
        ("owner-staff@customer.example", "machine_sender"),
        ("no-reply@customer.example", "machine_sender"),
    ],
)
def test_no_acknowledgement_to_our_own_or_a_lookalike_domain(sender: str, reason: str) -> None:
    rig, registry = ack_rig(send_as=("agent@fabrikam.example",))
    email = mail(1, **{"from": Address(address=sender)})
    with capture_logs() as logs:
        rig.ticketer.handle(email)
        rig.ticketer.handle(email)  # a redelivery decides the same
    assert len(rig.store.records) == 1, "the mail still makes its record"
    assert rig.outbox.jobs == [] and rig.store.acks == {}
    assert skipped(registry, reason) == 2
    lines = [e for e in logs if e["event"] == "no auto-acknowledgement"]
    assert [e["reason"] for e in lines] == [reason, reason]


def test_acknowledgement_goes_to_from_even_when_reply_to_names_someone_else() -> None:
    rig, _ = ack_rig()
    reply_to = (Address(address="victim@elsewhere.example"), Address(address="x@contoso.com"))
    rig.ticketer.handle(mail(1, reply_to=reply_to))
    [job] = rig.outbox.jobs
    assert [a.address for a in job.to] == ["user1@customer.example"]
    assert rig.store.acks == {job.job_id: "user1@customer.example"}


def test_a_mail_without_from_is_recorded_but_not_acknowledged() -> None:
    rig, registry = ack_rig()
    rig.ticketer.handle(mail(1, **{"from": None, "sender": Address(address="s@customer.example")}))
    assert len(rig.store.records) == 1 and rig.outbox.jobs == []
    assert skipped(registry, "no_from") == 1


@pytest.mark.parametrize("return_path", ["<>", "<> ", "< >", "<> (bounce)"])
def test_a_null_sender_makes_a_record_but_never_an_acknowledgement(return_path: str) -> None:
    rig, _ = ack_rig()
    email = mail(1, headers=MailHeaders(return_path=return_path))
    rig.ticketer.handle(email)
    rig.ticketer.handle(email)  # redelivered: re-classified, still no acknowledgement
    assert len(rig.store.records) == 1
    assert rig.outbox.jobs == [] and rig.store.acks == {}


def test_out_of_office_subject_without_headers_does_not_reopen_a_record() -> None:
    rig, _ = ack_rig()
    rig.ticketer.handle(mail(1))
    rig.store.records[1]["status"] = "closed"
    oof = mail(2, subject="Out of Office: Re: [#1] Printer 1 is broken", conversation_id="x")
    rig.ticketer.handle(oof)
    assert rig.store.records[1]["status"] == "closed"
    assert rig.store.messages[-1][1].kind == "auto_reply"
    assert len(rig.outbox.jobs) == 1  # only the first mail's


@pytest.mark.parametrize("how", ["token", "in_reply_to", "references", "conversation"])
def test_reply_threads_to_its_record_strips_quotes_and_reopens(how: str) -> None:
    rig = make_rig()
    rig.ticketer.handle(mail(1))
    rig.store.records[1]["status"] = "closed"
    body = Body(text="Still broken.\n\nOn Mon, 2 Nov 2026, Help wrote:\n> old text")
    fields: dict[str, Any] = {"conversation_id": "other", "subject": "Re: Printer", "body": body}
    if how == "token":
        fields["subject"] = "Re: [#1] Printer"
    elif how == "in_reply_to":
        fields["headers"] = MailHeaders(in_reply_to="<m1@customer.example>")
    elif how == "references":
        fields["headers"] = MailHeaders(references=("<x@y.example> <m1@customer.example>",))
    else:
        fields["conversation_id"] = "conv-1"
    rig.ticketer.handle(mail(2, **fields))
    assert len(rig.store.records) == 1
    assert rig.store.records[1]["status"] == "open"
    record_id, reply = rig.store.messages[-1]
    assert (record_id, reply.kind, reply.body_text) == (1, "reply", "Still broken.")
    assert rig.outbox.processed_[-1].outcome == "appended"
    assert rig.outbox.events[-1].change == "reply"


def test_token_of_a_missing_record_or_another_mailbox_does_not_thread() -> None:
    rig = make_rig()
    rig.ticketer.handle(mail(1))
    rig.store.records[1]["mailbox"] = "other@contoso.com"
    rig.ticketer.handle(mail(2, subject="Re: [#1] x"))
    rig.ticketer.handle(mail(3, subject="Re: [#99] x"))
    assert len(rig.store.records) == 3


def test_reply_to_a_deleted_record_starts_a_new_one(monkeypatch: pytest.MonkeyPatch) -> None:
    rig = make_rig()
    rig.ticketer.handle(mail(1))
    real_append = rig.store.append_message

    def deleted(record_id: int, msg: NewMessage, **kwargs: Any) -> WriteResult:
        rig.store.records.pop(record_id, None)
        return real_append(record_id, msg, **kwargs)

    monkeypatch.setattr(rig.store, "append_message", deleted)
    rig.ticketer.handle(mail(2, headers=MailHeaders(in_reply_to="<m1@customer.example>")))
    assert rig.outbox.processed_[-1].outcome == "created"
    assert rig.outbox.processed_[-1].record_id == 2


def test_auto_reply_threaded_is_a_note_without_reopening_or_ack() -> None:
    rig = make_rig(auto_acknowledge=True)
    rig.ticketer.handle(mail(1))
    rig.store.records[1]["status"] = "pending"
    oof = mail(
        2,
        subject="Automatic reply: Printer 1",
        headers=MailHeaders(auto_submitted="auto-replied", in_reply_to="<m1@customer.example>"),
    )
    rig.ticketer.handle(oof)
    assert rig.store.records[1]["status"] == "pending"
    assert rig.store.messages[-1][1].kind == "auto_reply"
    assert rig.outbox.events[-1].change == "auto_reply"
    assert len(rig.outbox.jobs) == 1  # only the first mail's


def test_auto_reply_without_a_record_is_ignored() -> None:
    rig = make_rig(auto_acknowledge=True)
    rig.ticketer.handle(mail(1, headers=MailHeaders(auto_submitted="auto-replied")))
    assert rig.store.records == {}
    [processed] = rig.outbox.processed_
    assert (processed.outcome, processed.reason) == ("ignored", "auto_reply")
    assert rig.outbox.events == [] and rig.outbox.jobs == []


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"from": Address(address=BOX)}, "loop:from_self"),
        ({"headers": MailHeaders(x_mailpipe={"job": "1"})}, "loop:x_mailpipe_header"),
        (
            {"internet_message_id": make_message_id(BOX, "j1", "mailpipe.contoso.com")},
            "loop:own_message_id",
        ),
        ({"from": Address(address="news@spam.example")}, "ignored:ignore_senders:@spam.example"),
    ],
)
def test_loops_and_ignored_senders_make_no_record(fields: dict[str, Any], reason: str) -> None:
    rig = make_rig(auto_acknowledge=True, ignore_senders=("@spam.example",))
    rig.ticketer.handle(mail(1, **fields))
    assert rig.store.records == {}
    [processed] = rig.outbox.processed_
    assert (processed.outcome, processed.reason) == ("ignored", reason)
    assert rig.outbox.jobs == []


BOUNCE = b"""From: MAILER-DAEMON@mx.customer.example
To: help@contoso.com
Subject: Undelivered Mail Returned to Sender
Message-ID: <b1@mx.customer.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

The mail could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.example

Final-Recipient: rfc822; gone@customer.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--B
Content-Type: text/rfc822-headers

From: help@contoso.com
Message-ID: <ours@mailpipe.contoso.com>
Subject: Re: [#1] Printer

--B--
"""


def _bounce(rig: Rig, n: int) -> InboundEmail:
    return mail(
        n,
        **{"from": Address(address="mailer-daemon@mx.customer.example")},
        subject="Undelivered Mail Returned to Sender",
        internet_message_id=f"<b{n}@mx.customer.example>",
        raw_mime=rig.blobs.put(BOUNCE),
    )


def test_bounce_of_our_sent_message_becomes_a_delivery_failure() -> None:
    rig = make_rig()
    rig.ticketer.handle(mail(1))
    rig.store.sent_log["j1"] = LoggedFacts(BOX, 1, "<ours@mailpipe.contoso.com>")
    rig.ticketer.handle_result(
        OutboundResult(
            job_id="j1",
            mailbox=BOX,
            status="sent",
            record_id=1,
            internet_message_id="<ours@mailpipe.contoso.com>",
            subject="Re: [#1] Printer",
            to=(Address(address="gone@customer.example"),),
            text="We are on it.",
            finished_at=NOW,
        )
    )
    rig.store.records[1]["status"] = "pending"
    rig.ticketer.handle(_bounce(rig, 2))
    record_id, msg = rig.store.messages[-1]
    assert (record_id, msg.kind) == (1, "delivery_failure")
    [failure] = msg.delivery_failures
    assert (failure.recipient, failure.status) == ("gone@customer.example", "5.1.1")
    assert failure.original_message_id == "<ours@mailpipe.contoso.com>"
    assert rig.store.records[1]["status"] == "pending"
    assert [e.change for e in rig.outbox.events] == ["new_request", "outbound", "delivery_failure"]


def test_bounce_without_our_message_is_ignored_unmatched() -> None:
    rig = make_rig()
    rig.ticketer.handle(_bounce(rig, 2))
    assert rig.outbox.processed_[-1].reason == "bounce_unmatched"
    assert rig.store.records == {}


def test_sent_result_for_a_deleted_record_or_not_sent_is_dropped() -> None:
    rig = make_rig()
    base = {"job_id": "j", "mailbox": BOX, "finished_at": NOW, "internet_message_id": "<o@x.y>"}
    rig.ticketer.handle_result(OutboundResult(status="sent", record_id=7, **base))
    rig.ticketer.handle_result(OutboundResult(status="failed", error_code="x", record_id=7, **base))
    assert rig.store.messages == [] and rig.outbox.events == []


def test_missing_blob_and_garbage_mime_are_permanent() -> None:
    rig = make_rig()
    ref = BlobRef(sha256="a" * 64, size=3)
    attachment = AttachmentRef(name="a.pdf", blob=ref)
    with pytest.raises(BlobMissingError):
        rig.ticketer.handle(mail(1, attachments=(attachment,)))
    with pytest.raises(BadMimeError):
        rig.ticketer.handle(mail(2, raw_mime=rig.blobs.put(b"\x00\x01 not a mail")))
    assert rig.store.records == {} and rig.outbox.processed_ == []


def test_on_dead_quarantines_and_publishes_quarantined_once() -> None:
    rig = make_rig()
    outcome = Outcome(Action.DEAD, reason="blob_missing", error="blob gone", hint="share it")
    rig.ticketer.on_dead(mail(1), replace(DELIVERY, attempt=3), outcome)
    rig.ticketer.on_dead(mail(1), DELIVERY, outcome)
    assert rig.store.quarantined == [("g1", "blob_missing")]
    assert [(p.outcome, p.reason) for p in rig.outbox.processed_] == [
        ("quarantined", "blob_missing"),
        ("quarantined", "blob_missing"),
    ]


def test_requester_from_the_tenant_names_the_record() -> None:
    found = Requester("user1@customer.example", NOW, display_name="Ursula One", in_tenant=True)
    rig = make_rig(lookup={"user1@customer.example": found})
    rig.ticketer.handle(mail(1))
    rig.ticketer.handle(mail(2, headers=MailHeaders(in_reply_to="<m1@customer.example>")))
    assert rig.store.records[1]["requester"] == Party("user1@customer.example", "Ursula One")
    assert rig.lookups == ["user1@customer.example"]  # replies do not look the sender up


def test_html_only_mail_is_sanitised_and_text_derived() -> None:
    rig = make_rig()
    html = '<p>Hi <b>there</b></p><script>alert(1)</script><img src="https://t.example/p.gif">'
    rig.ticketer.handle(mail(1, body=Body(html=html, truncated=True, original_chars=2_000_000)))
    _, msg = rig.store.messages[0]
    assert msg.body_html is not None and "script" not in msg.body_html
    assert "t.example" not in msg.body_html
    assert msg.body_text is not None and "Hi there" in msg.body_text
    assert msg.truncated is True


def test_contract_violation_that_names_its_mail_is_quarantined() -> None:
    rig = make_rig()
    error = ContractError("mailpipe.inbound_email.v1: received_at: invalid")
    named = json.dumps(
        {"mailbox": BOX.upper(), "provider": "microsoft", "message_id": "g9", "received_at": "no"}
    ).encode()
    rig.ticketer.on_invalid(named, DELIVERY, error)
    rig.ticketer.on_invalid(b"not json at all", DELIVERY, error)
    other = json.dumps({"mailbox": "x@elsewhere.example", "graph_id": "g8"}).encode()
    rig.ticketer.on_invalid(other, DELIVERY, error)
    assert rig.store.quarantined == [("g9", "contract_violation")]
    [processed] = rig.outbox.processed_
    assert (processed.outcome, processed.message_id) == ("quarantined", "g9")


def test_a_batch_publishes_the_effects_of_its_good_emails_once_in_one_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rig = make_rig(auto_acknowledge=True)
    calls: list[int] = []
    publish = rig.outbox.publish

    def counted(messages: Sequence[ProcessedEmail | RecordEvent | OutboundEmail]) -> None:
        calls.append(len(messages))
        publish(messages)

    monkeypatch.setattr(rig.outbox, "publish", counted)
    missing = AttachmentRef(name="a.pdf", blob=BlobRef(sha256="b" * 64, size=3))
    batch = [mail(1), mail(2, attachments=(missing,)), mail(3)]
    with capture_logs() as logs:
        results = rig.ticketer.handle_batch([(m, DELIVERY) for m in batch])
    handled = [line for line in logs if line["event"] == "email handled"]
    assert len(handled) == 2, "the rolled-back attempt reports nothing"
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], BlobMissingError), "the bad email fails on its own"
    assert calls == [6], "processed, event and acknowledgement of two emails, in one call"
    assert [p.message_id for p in rig.outbox.processed_] == ["g1", "g3"]
    assert [e.record_id for e in rig.outbox.events] == [1, 2]
    assert len(rig.outbox.jobs) == 2 and len(rig.store.records) == 2


def test_a_failed_publish_fails_the_batch_and_the_redelivery_republishes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rig = make_rig()
    publish = rig.outbox.publish

    def broken(messages: Sequence[ProcessedEmail | RecordEvent | OutboundEmail]) -> None:
        raise BrokerError("broker down")

    monkeypatch.setattr(rig.outbox, "publish", broken)
    batch = [(mail(1), DELIVERY), (mail(2), DELIVERY)]
    with pytest.raises(BrokerError):
        rig.ticketer.handle_batch(batch)
    assert len(rig.store.records) == 2, "written before publishing"
    monkeypatch.setattr(rig.outbox, "publish", publish)
    assert rig.ticketer.handle_batch(batch) == [None, None]
    assert len(rig.store.records) == 2, "no second record"
    assert [(p.message_id, p.outcome) for p in rig.outbox.processed_] == [
        ("g1", "created"),
        ("g2", "created"),
    ]


def test_a_batch_is_one_transaction() -> None:
    rig = make_rig(auto_acknowledge=True)
    batch = [mail(1), mail(2), mail(3, conversation_id="conv-1")]
    assert rig.ticketer.handle_batch([(m, DELIVERY) for m in batch]) == [None] * 3
    assert rig.store.units == 1
    assert sorted(rig.store.records) == [1, 2], "the third threads into the first, same batch"
    assert [p.outcome for p in rig.outbox.processed_] == ["created", "created", "appended"]
    assert rig.catch_ups == [2], "senders an outage left unknown are asked again once a batch"
