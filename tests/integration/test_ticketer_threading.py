"""Threading, notes, bounces and loops through the running ticketer (RabbitMQ, both databases)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import delete

from libs.common.contracts import Address, Body, MailHeaders
from libs.common.db.schema import records
from libs.common.msgid import make_message_id
from services.ticketer.domain.mime import parse_mime
from tests.broker_helpers import wait_until
from tests.integration.test_ticketer_rig import BOX, mail, make_rig, sent_result

__all__ = ["make_rig"]  # the fixture, imported for pytest

CORPUS = Path("/work/shared/corpora/bounces/mail")
REPLY = Body(text="It is still broken.\n\nOn Mon, 2 Nov 2026 at 10:00, Support wrote:\n> quoted")


def _record_of(rig: Any, message_id: str) -> int:
    [done] = [p for p in rig.processed() if p.message_id == message_id]
    assert done.record_id is not None
    return int(done.record_id)


def test_replies_thread_by_token_in_reply_to_of_ours_and_conversation(make_rig: Any) -> None:
    rig = make_rig(auto_acknowledge=True)
    rig.send(mail(1), mail(2), mail(3))
    rig.processed(3)
    r1, r2, r3 = (_record_of(rig, f"AAMk-{n}=") for n in (1, 2, 3))
    rig.store.set_status(r1, "closed")

    # An agent's answer on record 2 was sent: the customer replies to *that* message.
    ours = make_message_id(BOX, "agent-reply-1", "mailpipe.contoso.com")
    rig.send_result(sent_result("agent-reply-1", r2, ours))
    assert wait_until(lambda: rig.store.find_message_by_internet_id(BOX, ours) is not None)

    rig.send(
        mail(11, subject=f"RE: [#{r1}] Printer 1 is broken", conversation_id="x1", body=REPLY),
        mail(
            12, subject="Re: Printer", conversation_id="x2", headers=MailHeaders(in_reply_to=ours)
        ),
        mail(13, subject="Re: Printer 3", conversation_id="conv-3"),
    )
    rig.processed(6)
    assert [_record_of(rig, f"AAMk-{n}=") for n in (11, 12, 13)] == [r1, r2, r3]
    assert len(rig.store.list_records()) == 3
    detail = rig.store.get_record(r1)
    assert detail is not None and detail.record.status == "open"  # reopened
    reply = detail.messages[-1]
    assert (reply.kind, reply.body_text) == ("reply", "It is still broken.")
    second = rig.store.get_record(r2)
    assert second is not None
    assert sorted(m.direction for m in second.messages) == ["in", "in", "out"]
    assert len(rig.jobs()) == 3  # replies are not acknowledged
    assert wait_until(lambda: len(rig.events()) == 7)
    changes = sorted(e.change for e in rig.events())
    assert changes == ["new_request"] * 3 + ["outbound"] + ["reply"] * 3


def test_reply_to_a_deleted_record_starts_a_new_one(make_rig: Any) -> None:
    rig = make_rig()
    rig.send(mail(1))
    r1 = _record_of(rig, rig.processed(1)[0].message_id)
    with rig.store.engine.begin() as conn:
        conn.execute(delete(records).where(records.c.id == r1))
    rig.send(
        mail(
            2,
            subject=f"Re: [#{r1}] Printer",
            headers=MailHeaders(in_reply_to="<m1@customer.example>"),
        )
    )
    second = rig.processed(2)[1]
    assert second.outcome == "created" and second.record_id is not None
    # SQLite may hand the deleted record's id out again: what counts is a fresh record.
    detail = rig.store.get_record(second.record_id)
    assert detail is not None
    assert [m.message_id for m in detail.messages] == ["AAMk-2="]
    assert detail.messages[0].kind == "request"


def test_auto_reply_is_a_note_on_its_record_without_ack(make_rig: Any) -> None:
    rig = make_rig(auto_acknowledge=True)
    rig.send(mail(1))
    r1 = _record_of(rig, rig.processed(1)[0].message_id)
    rig.store.set_status(r1, "pending")
    out_of_office = mail(
        2,
        from_=Address(address="user1@customer.example"),
        subject="Automatic reply: Printer 1 is broken",
        headers=MailHeaders(auto_submitted="auto-replied", in_reply_to="<m1@customer.example>"),
    )
    unthreaded = mail(
        3, subject="Out of Office", headers=MailHeaders(auto_submitted="auto-generated")
    )
    rig.send(out_of_office, unthreaded)
    done = rig.processed(3)
    assert [(p.outcome, p.reason) for p in done[1:]] == [
        ("appended", None),
        ("ignored", "auto_reply"),
    ]
    detail = rig.store.get_record(r1)
    assert detail is not None
    assert detail.record.status == "pending"
    assert [m.kind for m in detail.messages] == ["request", "auto_reply"]
    assert len(rig.jobs()) == 1  # only the request's


def test_bounce_of_our_sent_message_is_a_delivery_failure(make_rig: Any) -> None:
    raw = (CORPUS / "lhost-exchange2007-07.eml").read_bytes()
    facts = parse_mime(raw).facts
    returned = "<QCw92c-juIk7Y-w6@neko.example.com>"
    rig = make_rig(keep_raw_mime=True)
    rig.send(mail(1))
    r1 = _record_of(rig, rig.processed(1)[0].message_id)
    rig.send_result(sent_result("j-bounced", r1, returned))
    assert wait_until(lambda: rig.store.find_message_by_internet_id(BOX, returned) is not None)
    assert facts.from_ is not None
    bounce = mail(
        2,
        from_=Address(address=facts.from_.address),
        subject=facts.subject,
        internet_message_id=facts.message_id,
        raw_mime=rig.blobs.put(raw),
        headers=MailHeaders(content_type="multipart/report; report-type=delivery-status"),
    )
    rig.send(bounce)
    assert rig.processed(2)[1].outcome == "appended"
    detail = rig.store.get_record(r1)
    assert detail is not None
    assert sorted(m.kind for m in detail.messages) == ["delivery_failure", "outbound", "request"]
    [failure_msg] = [m for m in detail.messages if m.kind == "delivery_failure"]
    [failure] = failure_msg.delivery_failures
    assert (failure.recipient, failure.status) == ("kijitora@example.jp", "5.1.1")
    assert failure.original_message_id == returned


def test_loops_and_ignored_senders_make_no_record(make_rig: Any) -> None:
    rig = make_rig(auto_acknowledge=True, ignore_senders=["@newsletter.example"])
    rig.send(
        mail(1, from_=Address(address=BOX)),
        mail(2, headers=MailHeaders(x_mailpipe={"job-id": "ack:1"})),
        mail(3, internet_message_id=make_message_id(BOX, "job-9", "mailpipe.contoso.com")),
        mail(4, from_=Address(address="news@newsletter.example")),
    )
    done = rig.processed(4)
    assert sorted((p.message_id, p.outcome, p.reason) for p in done) == [
        ("AAMk-1=", "ignored", "loop:from_self"),
        ("AAMk-2=", "ignored", "loop:x_mailpipe_header"),
        ("AAMk-3=", "ignored", "loop:own_message_id"),
        ("AAMk-4=", "ignored", "ignored:ignore_senders:@newsletter.example"),
    ]
    assert rig.store.list_records() == []
    assert rig.jobs() == [] and rig.events() == []
