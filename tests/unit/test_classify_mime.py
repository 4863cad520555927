"""MIME parsing into MailFacts: headers, charsets, attachments, report parts, contracts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.common.contracts import InboundEmail
from libs.common.text.charsets import decode_text
from services.ticketer.domain.classify import classify
from services.ticketer.domain.decode import decode_header_value
from services.ticketer.domain.facts import MailAddress
from services.ticketer.domain.inbound import facts_from_inbound
from services.ticketer.domain.mime import parse_mime
from services.ticketer.domain.verdict import KINDS


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


MULTIPART = crlf(
    """From: =?ISO-8859-1?Q?Andr=E9_M=FCller?= <andre@kunde.example>
To: "Help, Desk" <helpdesk@contoso.example>, bob@partner.example
Cc: =?UTF-8?Q?J=C3=B6rg?= <joerg@kunde.example>
Reply-To: tickets@kunde.example
Subject: =?UTF-8?B?w4RyZ2VyIG1pdA==?= =?UTF-8?B?IGRlbSBEcnVja2Vy?= heute
Message-ID: <m1@kunde.example>
In-Reply-To: <rec-1.1@mailpipe.example>
References: <rec-1.0@mailpipe.example>
 <rec-1.1@mailpipe.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=XX

--XX
Content-Type: multipart/alternative; boundary=YY

--YY
Content-Type: text/plain; charset=utf-8

Grüße aus München
--YY
Content-Type: text/html; charset=windows-1252
Content-Transfer-Encoding: quoted-printable

<p>Gr=FC=DFe</p>
--YY--
--XX
Content-Type: image/png; name="logo.png"
Content-ID: <logo@kunde.example>
Content-Disposition: inline; filename="logo.png"
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--XX
Content-Type: application/pdf
Content-Disposition: attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf
Content-Transfer-Encoding: base64

JVBERi0=
--XX--
"""
)


def test_headers_addresses_and_encoded_words_are_decoded() -> None:
    facts = parse_mime(MULTIPART).facts
    assert facts.subject == "Ärger mit dem Drucker heute"
    assert facts.from_ == MailAddress("andre@kunde.example", "André Müller")
    assert facts.to == (
        MailAddress("helpdesk@contoso.example", "Help, Desk"),
        MailAddress("bob@partner.example", ""),
    )
    assert facts.cc == (MailAddress("joerg@kunde.example", "Jörg"),)
    assert facts.reply_to == (MailAddress("tickets@kunde.example", ""),)
    assert facts.message_id == "<m1@kunde.example>"
    assert facts.in_reply_to == ("<rec-1.1@mailpipe.example>",)
    assert facts.references == ("<rec-1.0@mailpipe.example>", "<rec-1.1@mailpipe.example>")


def test_bodies_and_attachments() -> None:
    parsed = parse_mime(MULTIPART)
    assert parsed.facts.text == "Grüße aus München"
    assert parsed.facts.html == "<p>Grüße</p>"
    logo, invoice = parsed.attachments
    assert (logo.filename, logo.content_type, logo.inline, logo.content_id) == (
        "logo.png",
        "image/png",
        True,
        "logo@kunde.example",
    )
    assert logo.data == b"\x89PNG\r\n\x1a\n"
    assert (invoice.filename, invoice.inline, invoice.data) == (
        "Rechnung März.pdf",
        False,
        b"%PDF-",
    )
    assert parsed.defects == ()


def test_unknown_and_wrong_charsets_do_not_crash() -> None:
    raw = (
        b"From: a@kunde.example\r\nSubject: =?x-bogus?Q?caf=E9?= \xc3\xa9t\xc3\xa9\r\n"
        b"Content-Type: text/plain; charset=x-bogus\r\n\r\ncaf\xe9 cr\xe8me"
    )
    facts = parse_mime(raw).facts
    assert facts.subject == "café été"  # unknown label: UTF-8 tried, then cp1252
    assert facts.text == "café crème"


def test_utf8_body_mislabelled_as_ascii_is_read_as_utf8() -> None:
    raw = b"Content-Type: text/plain; charset=us-ascii\r\n\r\n\xe2\x82\xac 10"
    assert parse_mime(raw).facts.text == "€ 10"


def test_invalid_encoded_word_is_kept_verbatim() -> None:
    assert decode_header_value("=?utf-8?B?!!!?= ok") == "=?utf-8?B?!!!?= ok"
    assert decode_text(b"\xff\xfe\x00", "no-such-charset") == "ÿþ\x00"


def test_garbage_and_empty_input_parse_without_raising() -> None:
    for raw in (b"", b"\x00\xff\r\n\r\n", b"Content-Type: multipart/mixed\r\n\r\nno boundary"):
        parsed = parse_mime(raw)
        assert parsed.facts.subject == ""
        assert parsed.facts.message_id is None


def test_a_parameter_the_structured_header_parser_fails_on_does_not_stop_the_mail() -> None:
    """policy.default's Content-Type parser raises IndexError on a parameter name with "*"
    and no value; the mail is read as its plain header text says."""
    raw = crlf(
        "From: a@kunde.example\nSubject: Drucker\n"
        "Content-Type: multipart/mixed; boundary=b; charset*\n\n"
        "--b\nContent-Type: text/plain; charset*\n\nGrüße\n"
        "--b\nContent-Type: application/pdf; name*\n"
        "Content-Disposition: attachment; filename=r.pdf\n\n%PDF-\n--b--\n"
    )
    parsed = parse_mime(raw)
    assert (parsed.facts.subject, parsed.facts.text) == ("Drucker", "Grüße")
    assert [(a.filename, a.content_type, a.data) for a in parsed.attachments] == [
        ("r.pdf", "application/pdf", b"%PDF-")
    ]


def test_mbox_from_line_and_null_return_path() -> None:
    raw = crlf(
        "From MAILER-DAEMON  Thu Apr 29 23:34:45 2015\n"
        "Return-Path: <>\nFrom: MAILER-DAEMON <>\nSubject: x\n\nbody\n"
    )
    facts = parse_mime(raw).facts
    assert facts.return_path == ""
    assert facts.from_ == MailAddress("", "MAILER-DAEMON")


def test_delivery_status_fields_per_recipient() -> None:
    raw = crlf(
        """From: MAILER-DAEMON@mx.example
Content-Type: multipart/report; report-type=delivery-status; boundary=B

--B
Content-Type: text/plain

notice
--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example

Final-Recipient: rfc822; <one@kunde.example>
Action: failed
Status: 5.1.1 (user unknown)
Diagnostic-Code: smtp; 550 5.1.1 no such user
 here

Final-Recipient: RFC822; two@kunde.example
Action: delayed
Status: 4.2.2
--B
Content-Type: message/rfc822

Message-ID: <orig@mailpipe.example>
Subject: hi

x
--B--
"""
    )
    facts = parse_mime(raw).facts
    assert facts.report_type == "delivery-status"
    assert facts.has_delivery_status
    assert facts.delivery_status_message == (("reporting-mta", "dns; mx.example"),)
    one, two = facts.delivery_status
    assert (one.final_recipient, one.action, one.status) == ("one@kunde.example", "failed", "5.1.1")
    assert one.diagnostic_code == "550 5.1.1 no such user here"
    assert (two.final_recipient, two.action, two.status) == (
        "two@kunde.example",
        "delayed",
        "4.2.2",
    )
    assert facts.returned_message_id == "<orig@mailpipe.example>"
    assert ("subject", "hi") in facts.returned_headers
    assert facts.text == "notice"


def inbound(**overrides: object) -> InboundEmail:
    data: dict[str, object] = {
        "mailbox": "helpdesk@contoso.example",
        "message_id": "AAMk1",
        "provider": "microsoft",
        "internet_message_id": "<c1@kunde.example>",
        "received_at": datetime(2026, 11, 1, tzinfo=UTC),
        "fetched_at": datetime(2026, 11, 1, tzinfo=UTC),
        "from": {"address": "kunde@kunde.example", "name": "Kunde"},
        "subject": "Drucker",
        "body": {"text": "Hallo"},
    }
    data.update(overrides)
    return InboundEmail.model_validate(data)


def classify_inbound(email: InboundEmail, raw: bytes | None = None) -> str:
    facts = facts_from_inbound(email, raw)
    return classify(
        facts, mailbox=email.mailbox, own_message_id_domain="mailpipe.example", ignore_senders=()
    ).reason


def test_facts_from_contract_headers() -> None:
    assert classify_inbound(inbound()) == "request"
    headers: dict[str, object] = {"x_mailpipe": {"x-mailpipe-record": "7"}}
    assert classify_inbound(inbound(headers=headers)) == "x_mailpipe_header"
    headers = {"auto_submitted": "auto-replied", "in_reply_to": "<r@mailpipe.example>"}
    assert classify_inbound(inbound(headers=headers)) == "auto_submitted:auto-replied"
    assert classify_inbound(inbound(headers={"other": {"X-Autoreply": "yes"}})) == "x_autoreply"
    headers = {"precedence": "bulk", "references": ["<a@b.example>"]}
    facts = facts_from_inbound(inbound(headers=headers))
    assert facts.references == ("<a@b.example>",)
    assert classify_inbound(inbound(headers=headers)) == "precedence:bulk"


def test_facts_from_contract_text_ndr_and_raw_mime_preferred() -> None:
    ndr = inbound(
        **{"from": {"address": "postmaster@kunde.example"}},
        subject="Undeliverable: Drucker",
        body={"html": "<p>550 5.1.1 User unknown: weg@kunde.example</p>"},
        headers={"return_path": "<>"},
    )
    assert classify_inbound(ndr) == "ndr:subject:5.1.1"
    dsn_attached = inbound(
        attachments=[
            {
                "name": "details.txt",
                "content_type": "message/delivery-status",
                "blob": {"sha256": "0" * 64, "size": 10},
            }
        ],
        body={"text": "Delivery to weg@kunde.example failed: 550 5.2.2 mailbox full"},
    )
    assert classify_inbound(dsn_attached) == "dsn_text:5.2.2"
    raw = crlf("From: helpdesk@contoso.example\nSubject: x\n\nbody\n")
    assert classify_inbound(inbound(), raw) == "from_self"


def test_absurdly_deep_nesting_is_cut_and_reported() -> None:
    depth = 200
    opening = "".join(
        f"Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n" for i in range(depth)
    )
    closing = "".join(f"\r\n--b{i}--" for i in reversed(range(depth)))
    raw = ("Subject: deep\r\n" + opening + "Content-Type: text/plain\r\n\r\nx" + closing).encode()
    parsed = parse_mime(raw)
    assert parsed.facts.subject == "deep"
    assert parsed.defects and "nesting" in parsed.defects[0]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                b"Subject: =?utf-8?B?w4Q=?= =?x?Q?=FF?=\r\n",
                b'From: "a, b" <a@b.example>, =?utf-8?q?x?= <>\r\n',
                b"Content-Type: multipart/report; report-type=delivery-status; boundary=Z\r\n",
                b"Content-Type: message/delivery-status\r\n",
                b"Content-Transfer-Encoding: base64\r\n",
                b"\r\n",
                b"--Z\r\n",
                b"--Z--\r\n",
                b"Status: 5.1.1\r\nAction: failed\r\n",
                b"\xff\xfe\x80 garbage\r\n",
                b"Message-ID: <x@y>\r\n",
            ]
        )
        | st.binary(max_size=40),
        max_size=30,
    )
)
def test_parsing_and_classifying_arbitrary_bytes_never_raises(chunks: list[bytes]) -> None:
    facts = parse_mime(b"".join(chunks)).facts
    result = classify(facts, mailbox="h@c.example", own_message_id_domain="c.example")
    assert result.kind in KINDS


def test_nested_comments_in_an_address_header_do_not_stop_the_mail() -> None:
    """2,000 nested comments make the address parser recurse past Python's limit."""
    from services.ticketer.domain.mime import parse_mime

    deep = "(" * 2000 + ")" * 2000
    raw = (
        'From: "pat doe"@customer.example\r\n'
        f"Cc: {deep} <boss@customer.example>\r\n"
        "Subject: help\r\nMessage-ID: <n1@customer.example>\r\n\r\nMy printer jams.\r\n"
    ).encode()
    facts = parse_mime(raw).facts
    assert facts.subject == "help"
    assert facts.from_ is not None and facts.from_.address == '"pat doe"@customer.example'


@pytest.mark.timeout(15)  # a guard: unbounded, the structured parser took ~30 s here
def test_a_content_type_of_many_parameters_is_read_up_to_a_bound() -> None:
    params = "".join(f'; p{i}="v{i}"' for i in range(20_000))
    raw = f"From: a@x.test\r\nSubject: s\r\nContent-Type: text/plain{params}\r\n\r\nhello\r\n"
    facts = parse_mime(raw.encode()).facts
    assert facts.text is not None and facts.text.strip() == "hello"
    assert facts.subject == "s"
