"""Contracts ↔ store data: acknowledgement jobs, sent results, events."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from libs.common.contracts import (
    MAX_ATTACHMENTS,
    MAX_SUBJECT_CHARS,
    Address,
    AttachmentRef,
    BlobRef,
    InboundEmail,
    OutboundResult,
)
from services.ticketer import convert
from services.ticketer.domain.acknowledgement import ack_job_id
from services.ticketer.store.models import Attachment, Party, ProcessedRow, RecordSummary
from tests.unit.inbound_builders import inbound_email

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
BOX = "help@contoso.com"


email = inbound_email


def test_ack_job_subject_is_bounded_and_goes_to_from_never_reply_to() -> None:
    long = email(subject="x" * MAX_SUBJECT_CHARS, reply_to=(Address(address="desk@c.example"),))
    job = convert.ack_job(long, 7, "[#{id}]", NOW)
    assert len(job.subject) == MAX_SUBJECT_CHARS and job.subject.startswith("Re: ")
    assert [a.address for a in job.to] == ["ann@customer.example"]
    assert job.job_id == ack_job_id(BOX, 7, "g1")


def test_ack_job_without_any_address_is_refused() -> None:
    with pytest.raises(ValueError, match="no address"):
        convert.ack_job(email(**{"from": None}), 7, "[#{id}]", NOW)


def test_sent_result_becomes_an_outbound_message() -> None:
    result = OutboundResult(
        job_id="j",
        mailbox=BOX,
        status="sent",
        record_id=3,
        internet_message_id="<o@mailpipe.contoso.com>",
        sent_as="agent@contoso.com",
        subject="Re: [#3] Printer",
        to=(Address(address="ann@customer.example", name="Ann"),),
        in_reply_to="<m1@customer.example>",
        references=("<m1@customer.example>",),
        text="Done.",
        finished_at=NOW,
    )
    msg = convert.outbound_message(result)
    assert (msg.direction, msg.kind, msg.from_) == ("out", "outbound", Party("agent@contoso.com"))
    assert msg.to == (Party("ann@customer.example", "Ann"),)
    assert (msg.in_reply_to, msg.references, msg.body_text) == (
        "<m1@customer.example>",
        ("<m1@customer.example>",),
        "Done.",
    )


def test_processed_email_and_event_from_store_rows() -> None:
    row = ProcessedRow(
        BOX, "microsoft", "g1", "inbox", "<m1@x.example>", "ignored", None, "loop:x", NOW
    )
    processed = convert.processed_email(row)
    assert (processed.outcome, processed.reason, processed.processed_at) == (
        "ignored",
        "loop:x",
        NOW,
    )
    record = RecordSummary(3, BOX, "s", Party("not an address"), "open", 2, NOW, NOW)
    event = convert.record_event(record, "reply", "<m1@x.example>", NOW)
    assert (event.event, event.requester, event.message_count) == ("updated", None, 2)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (
            json.dumps({"mailbox": "A@B.example", "message_id": "g", "provider": "microsoft"}),
            ("a@b.example", "microsoft", "g", "inbox"),
        ),
        (  # version 1: Graph's id, always Microsoft's
            json.dumps({"mailbox": "A@B.example", "graph_id": "g"}),
            ("a@b.example", "microsoft", "g", "inbox"),
        ),
        (json.dumps({"mailbox": "a@b.example", "message_id": "g"}), None),  # whose id?
        (json.dumps({"mailbox": "a@b.example", "message_id": "g", "provider": "M S"}), None),
        (json.dumps({"mailbox": "a@b.example"}), None),
        (json.dumps({"mailbox": "a@b.example", "message_id": "bad\nid", "provider": "x"}), None),
        (json.dumps([1, 2]), None),
        ("{", None),
        ("[" * 100_000, None),  # deeper than the parser recurses: the dead letter keeps it
        ('{"mailbox": "a@b.example", "x": ' + "[" * 100_000, None),
    ],
)
def test_named_email_of_a_broken_body(body: str, named: tuple[str, str] | None) -> None:
    assert convert.named_email(body.encode()) == named


def test_the_fingerprint_is_what_the_mail_said_not_how_it_was_processed() -> None:
    from libs.common.contracts import Address, Body, InboundEmail
    from services.ticketer.convert import fingerprint

    def email(message_id: str, text: str, sender: str = "Jane@Customer.example") -> InboundEmail:
        return InboundEmail.model_validate(
            {
                "mailbox": "support@contoso.com",
                "message_id": message_id,
                "provider": "microsoft",
                "internet_message_id": "<same@customer.example>",
                "received_at": "2026-12-01T10:00:00Z",
                "fetched_at": "2026-12-01T10:00:01Z",
                "from": Address(address=sender),
                "subject": "Printer",
                "body": Body(text=text),
            }
        )

    one = fingerprint(email("g1", "It jams.\n> quoted\n"))
    assert fingerprint(email("g2", "It jams.\n> quoted\n", "jane@customer.example")) == one
    assert fingerprint(email("g3", "It jams, again.\n")) != one
    assert fingerprint(email("g4", "It jams.\n> quoted\n", "eve@evil.example")) != one


def test_ack_job_cleans_the_customers_subject_and_drops_a_name_posing_as_an_address() -> None:
    # A mail read before the header rule was this strict (model_copy skips validation).
    raw = email(
        **{"from": Address(address="ann@customer.example", name="ceo@contoso.com <ceo@c.com>")}
    ).model_copy(update={"subject": "hello\x0bworld\u2028again"})
    job = convert.ack_job(raw, 7, "[#{id}]", NOW)
    assert job.subject == "Re: hello world again"
    assert job.to == (Address(address="ann@customer.example"),)
    blank = convert.ack_job(email().model_copy(update={"subject": "\x0b\x0c"}), 7, "[#{id}]", NOW)
    assert blank.subject == "Re: your message"


@pytest.mark.parametrize(
    "subject",
    [
        # A customer's subject encoded twice, as Graph hands it over after decoding one level.
        "=?utf-8?q?printer=0D=0ABcc:_victim=40evil.example?=",
        "Re: =?UTF-8?B?cHJpbnRlcg0KQmNjOiB2aWN0aW1AZXZpbC5leGFtcGxl?= help",
        "=?utf-8*en?q?printer=0D=0A=0D=0Abody?==?utf-8?q?=0D=0AFrom:_ceo=40contoso.com?=",
    ],
)
def test_ack_job_subject_of_a_doubly_encoded_subject_holds_no_decodable_word(
    subject: str,
) -> None:
    from email import message_from_bytes
    from email import policy as email_policy
    from email.header import decode_header

    from services.sender.domain.mime import build_mime
    from services.sender.domain.policy import SendDecision

    job = convert.ack_job(email(subject=subject), 1, "[#{id}]", NOW)
    assert all(charset is None for _, charset in decode_header(job.subject))
    assert "=?" not in job.subject
    built = build_mime(
        job,
        SendDecision(BOX, BOX),
        message_id_domain="mailpipe.contoso.com",
        attachments=[],
        thread=None,
    )
    parsed = message_from_bytes(built.mime, policy=email_policy.default)
    assert parsed["Bcc"] is None and len(parsed.get_all("From") or []) == 1
    assert [a.addr_spec for a in parsed["To"].addresses] == ["ann@customer.example"]
    assert "\n" not in str(parsed["Subject"]) and "[#1]" in str(parsed["Subject"])


def test_ack_of_a_mail_whose_message_id_holds_an_encoded_word_threads_literally() -> None:
    """A customer's Message-ID goes into In-Reply-To and References as the literal text it
    is: never decoded into a line break and a Bcc, and the acknowledgement is still sent."""
    from email import message_from_bytes
    from email import policy as email_policy

    from services.sender.domain.mime import build_mime
    from services.sender.domain.policy import SendDecision

    evil = "<=?utf-8?q?a=0D=0ABcc:_victim=40evil.example?=@customer.example>"
    job = convert.ack_job(email(internet_message_id=evil), 1, "[#{id}]", NOW)
    built = build_mime(
        job,
        SendDecision(BOX, BOX),
        message_id_domain="mailpipe.contoso.com",
        attachments=[],
        thread=None,
    )
    assert f"\r\nIn-Reply-To: {evil}\r\n".encode() in built.mime
    assert f"\r\nReferences: {evil}\r\n".encode() in built.mime
    parsed = message_from_bytes(built.mime, policy=email_policy.default)
    assert parsed["Bcc"] is None and b"victim@" not in built.mime.split(b"\r\n\r\n")[1]


def _refs(count: int) -> list[AttachmentRef]:
    return [
        AttachmentRef(name=f"p{n}.txt", blob=BlobRef(sha256=f"{n:064x}", size=n))
        for n in range(count)
    ]


def test_a_mail_whose_attachments_filled_the_contract_keeps_its_raw_mime_in_the_record() -> None:
    raw = BlobRef(sha256="f" * 64, size=12345)
    full = convert._attachments(email(attachments=_refs(MAX_ATTACHMENTS), raw_mime=raw))
    assert len(full) == MAX_ATTACHMENTS + 1
    assert full[-1] == Attachment(convert.ORIGINAL_NAME, "f" * 64, 12345, "message/rfc822")
    fewer = convert._attachments(email(attachments=_refs(3), raw_mime=raw))
    assert [a.name for a in fewer] == ["p0.txt", "p1.txt", "p2.txt"]
    assert len(convert._attachments(email(attachments=_refs(MAX_ATTACHMENTS)))) == MAX_ATTACHMENTS
