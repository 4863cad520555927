"""The built MIME parses back with every header, body and attachment as the job asked."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from pydantic import ValidationError

from libs.common.contracts import OutboundAttachment, OutboundEmail
from libs.common.errors import ContractError
from libs.common.msgid import is_our_message_id
from libs.common.settings import MailboxConfig
from services.sender.domain.attachments import AttachmentBytes
from services.sender.domain.mime import BuiltMessage, ThreadContext, build_mime, record_token
from services.sender.domain.policy import SendDecision, decide_sender, fallback_decision
from services.sender.domain.thread import MAX_REFERENCES

DESK = "help@contoso.com"
DOMAIN = "mailpipe.contoso.com"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
LONG_ID = "<AM0PR01MB1234567890ABCDEF1234567890ABCDEF@AM0PR01MB1234.eurprd01.prod.outlook.com>"
BOX = MailboxConfig(
    address=DESK,
    tenant_id="t",
    client_id="c",
    client_secret="s",
    send_as=("alice@contoso.com",),
    send_as_fallback="mailbox",
)


def job(**overrides: Any) -> OutboundEmail:
    data: dict[str, Any] = {
        "job_id": "job-1",
        "mailbox": DESK,
        "to": [{"address": "customer@example.com", "name": "Ann Customer"}],
        "subject": "Printer",
        "text": "Hello",
    }
    data.update(overrides)
    return OutboundEmail.model_validate(data)


def build(
    j: OutboundEmail,
    *,
    attachments: tuple[AttachmentBytes, ...] = (),
    thread: ThreadContext | None = None,
    decision: SendDecision | None = None,
) -> tuple[BuiltMessage, EmailMessage]:
    chosen = decision or decide_sender(j, BOX)
    assert isinstance(chosen, SendDecision)
    built = build_mime(
        j,
        chosen,
        message_id_domain=DOMAIN,
        attachments=attachments,
        thread=thread,
        record_token="[#{id}]",
        now=NOW,
    )
    parsed = message_from_bytes(built.mime, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return built, parsed


def test_headers_round_trip() -> None:
    built, msg = build(
        job(
            from_address="Alice@contoso.com",
            from_name="Alice Agent",
            cc=[{"address": "boss@example.com"}],
            bcc=[{"address": "audit@example.com", "name": "Audit"}],
            reply_to=[{"address": "queue@contoso.com"}],
            record_id=12,
            auto_submitted="auto-replied",
            headers={"X-Ticket-Priority": "high"},
        )
    )
    assert msg["From"].addresses[0].addr_spec == "Alice@contoso.com"
    assert msg["From"].addresses[0].display_name == "Alice Agent"
    assert [a.addr_spec for a in msg["To"].addresses] == ["customer@example.com"]
    assert msg["To"].addresses[0].display_name == "Ann Customer"
    assert [a.addr_spec for a in msg["Cc"].addresses] == ["boss@example.com"]
    assert [a.addr_spec for a in msg["Bcc"].addresses] == ["audit@example.com"]
    assert [a.addr_spec for a in msg["Reply-To"].addresses] == ["queue@contoso.com"]
    assert msg["Subject"] == "[#12] Printer" == built.subject
    assert msg["Message-ID"] == built.message_id
    assert is_our_message_id(msg["Message-ID"], DOMAIN)
    assert msg["Date"].datetime == NOW
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["X-Mailpipe-Job-Id"] == "job-1"
    assert msg["X-Mailpipe-Record-Id"] == "12"
    assert msg["X-Ticket-Priority"] == "high"
    assert msg.get_content().strip() == "Hello"
    assert built.size == len(built.mime)


def test_manual_mail_has_no_auto_markers_and_no_record_headers() -> None:
    _, msg = build(job())
    assert msg["Auto-Submitted"] is None
    assert msg["X-Auto-Response-Suppress"] is None
    assert msg["X-Mailpipe-Record-Id"] is None
    assert msg["In-Reply-To"] is None
    assert msg["References"] is None
    assert msg["Subject"] == "Printer"


def test_job_header_does_not_override_ours() -> None:
    # The contract refuses the job (docs/publishing-jobs.md); the builder keeps its own
    # header all the same for a job that skipped validation.
    with pytest.raises(ValidationError, match="sets X-Auto-Response-Suppress itself"):
        job(auto_submitted="auto-generated", headers={"x-auto-response-suppress": "OOF"})
    headers = {"X-Auto-Response-Suppress": "OOF"}
    _, msg = build(job(auto_submitted="auto-generated").model_copy(update={"headers": headers}))
    assert msg.get_all("X-Auto-Response-Suppress") == ["All"]


def test_same_job_same_message_id_and_mailbox_recipients_dropped() -> None:
    j = job(
        to=[{"address": "customer@example.com"}, {"address": "HELP@contoso.com"}],
        cc=[{"address": "Customer@Example.com"}, {"address": "x@example.com"}],
    )
    first, msg = build(j)
    again, _ = build(j)
    assert first.message_id == again.message_id
    assert [a.addr_spec for a in msg["To"].addresses] == ["customer@example.com"]
    assert [a.addr_spec for a in msg["Cc"].addresses] == ["x@example.com"]


def test_fallback_decision_gives_mailbox_from_and_agent_reply_to() -> None:
    j = job(from_address="alice@contoso.com", from_name="Alice")
    decision = decide_sender(j, BOX)
    assert isinstance(decision, SendDecision)
    fallback = fallback_decision(decision, BOX, desk_name="Contoso Help")
    assert fallback is not None
    _, msg = build(j, decision=fallback)
    assert msg["From"].addresses[0].addr_spec == DESK
    assert msg["From"].addresses[0].display_name == "Alice via Contoso Help"
    assert [a.addr_spec for a in msg["Reply-To"].addresses] == ["alice@contoso.com"]


def test_text_and_html_make_an_alternative() -> None:
    _, msg = build(job(text="plain ü", html="<p>rich ü</p>"))
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert plain.get_content().strip() == "plain ü"
    assert html.get_content().strip() == "<p>rich ü</p>"


def test_html_only() -> None:
    _, msg = build(job(text=None, html="<p>only</p>"))
    assert msg.get_content_type() == "text/html"


def test_attachments_inline_image_and_names_round_trip() -> None:
    pdf = bytes(range(256)) * 40
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
    atts = (
        AttachmentBytes("Übersicht \u2013 Q3 ä.pdf", pdf, "application/pdf"),
        AttachmentBytes("logo.png", png, "image/png", is_inline=True, content_id="logo@desk"),
    )
    _, msg = build(job(text="t", html='<img src="cid:logo@desk">'), attachments=atts)
    assert msg.get_content_type() == "multipart/mixed"
    files = {p.get_filename(): p for p in msg.iter_attachments()}
    assert set(files) == {"Übersicht \u2013 Q3 ä.pdf"}
    assert files["Übersicht \u2013 Q3 ä.pdf"].get_content() == pdf
    related = [p for p in msg.walk() if p.get_content_type() == "multipart/related"]
    assert len(related) == 1
    images = [p for p in related[0].iter_parts() if p.get_content_type() == "image/png"]
    assert len(images) == 1
    assert images[0]["Content-ID"] == "<logo@desk>"
    assert images[0].get_content() == png
    assert images[0].get_content_disposition() == "inline"
    assert [p["MIME-Version"] for p in msg.walk()][1:] == [None] * (len(list(msg.walk())) - 1)


def test_inline_without_html_is_an_ordinary_attachment() -> None:
    att = AttachmentBytes("logo.png", b"img", "image/png", is_inline=True, content_id="logo")
    _, msg = build(job(), attachments=(att,))
    assert [p.get_filename() for p in msg.iter_attachments()] == ["logo.png"]


def test_odd_content_types_travel_as_octet_stream() -> None:
    atts = (
        AttachmentBytes("a.eml", b"From: x", "message/rfc822"),
        AttachmentBytes("b.bin", b"\x00\x01", "not a type"),
        AttachmentBytes("c.txt", b"text", "text/plain; charset=latin-1"),
    )
    _, msg = build(job(), attachments=atts)
    types = [(p.get_filename(), p.get_content_type()) for p in msg.iter_attachments()]
    assert types == [
        ("a.eml", "application/octet-stream"),
        ("b.bin", "application/octet-stream"),
        ("c.txt", "text/plain"),
    ]
    assert [p.get_payload(decode=True) for p in msg.iter_attachments()] == [
        b"From: x",
        b"\x00\x01",
        b"text",
    ]


def test_non_ascii_subject_names_and_idn_domain() -> None:
    j = job(
        subject="Drucker kaputt \u2013 schon wieder 😞",
        from_address="alice@contoso.com",
        from_name="Älice Ørsted",
        to=[{"address": "kunde@bücher.example", "name": "Müller, Jörg"}],
    )
    built, msg = build(j)
    assert built.mime.isascii()
    assert msg["Subject"] == "Drucker kaputt \u2013 schon wieder 😞"
    assert msg["From"].addresses[0].display_name == "Älice Ørsted"
    to = msg["To"].addresses[0]
    assert (to.display_name, to.addr_spec) == ("Müller, Jörg", "kunde@xn--bcher-kva.example")


def test_long_message_ids_stay_literal_in_threading_headers() -> None:
    other = LONG_ID.replace("AM0", "DB9")
    built, msg = build(job(in_reply_to=LONG_ID, references=[other, LONG_ID]))
    assert msg["In-Reply-To"] == LONG_ID
    assert str(msg["References"]).split() == [other, LONG_ID]
    head = built.mime.split(b"\r\n\r\n")[0]
    assert LONG_ID.encode() in head
    assert b"=?" not in head
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))


def test_threading_from_the_job() -> None:
    _, msg = build(job(in_reply_to="parent@example.com", references=["<root@example.com>"]))
    assert msg["In-Reply-To"] == "<parent@example.com>"
    assert str(msg["References"]).split() == ["<root@example.com>", "<parent@example.com>"]
    _, refs_only = build(job(references=["<root@example.com> <parent@example.com>"]))
    assert refs_only["In-Reply-To"] == "<parent@example.com>"


def test_threading_from_the_record_puts_the_last_inbound_last() -> None:
    thread = ThreadContext(
        last_inbound_message_id="<second@example.com>",
        message_ids=("<first@example.com>", "<second@example.com>", "<ack@mailpipe.x.com>"),
    )
    _, msg = build(job(record_id=3), thread=thread)
    assert msg["In-Reply-To"] == "<second@example.com>"
    assert str(msg["References"]).split() == [
        "<first@example.com>",
        "<ack@mailpipe.x.com>",
        "<second@example.com>",
    ]


def test_job_threading_wins_over_the_record() -> None:
    thread = ThreadContext("<record@example.com>", ("<record@example.com>",))
    _, msg = build(job(in_reply_to="<job@example.com>"), thread=thread)
    assert msg["In-Reply-To"] == "<job@example.com>"
    assert str(msg["References"]).split() == ["<job@example.com>"]


def test_references_are_capped_keeping_root_and_latest() -> None:
    ids = tuple(f"<m{i}@example.com>" for i in range(60))
    _, msg = build(job(), thread=ThreadContext(ids[-1], ids))
    refs = str(msg["References"]).split()
    assert len(refs) == MAX_REFERENCES
    assert refs[0] == ids[0]
    assert refs[1:] == list(ids[-(MAX_REFERENCES - 1) :])


def test_record_token_function_is_exported() -> None:
    assert record_token(9) == "[#9]"


def test_subject_token_not_doubled_on_reply() -> None:
    built, msg = build(job(subject="Re: [#12] Printer", record_id=12))
    assert msg["Subject"] == "Re: [#12] Printer" == built.subject


def test_attachment_bytes_from_the_contract() -> None:
    data = b"hello world"
    inline = OutboundAttachment(
        name="a.txt",
        content_base64=base64.b64encode(data).decode(),
        is_inline=True,
        content_id="<c1>",
    )
    made = AttachmentBytes.from_contract(inline)
    assert (made.data, made.content_id, made.is_inline) == (data, "c1", True)
    ref = OutboundAttachment(
        name="b.bin", blob={"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    )
    assert AttachmentBytes.from_contract(ref, data).data == data
    with pytest.raises(ContractError):
        AttachmentBytes.from_contract(ref, b"other bytes")
    with pytest.raises(ContractError):
        AttachmentBytes.from_contract(ref)
