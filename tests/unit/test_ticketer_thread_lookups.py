"""Which record a reply names, from subjects and threading headers as real clients send them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from libs.common.contracts import InboundEmail, MailHeaders
from libs.common.record_token import find_record_token
from services.ticketer.domain.inbound import facts_from_inbound
from services.ticketer.domain.mime import parse_mime
from services.ticketer.domain.threading import Lookup, record_lookups
from services.ticketer.domain.verdict import Classification
from tests.unit.inbound_builders import inbound_email

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
BOX = "help@contoso.com"
REQUEST = Classification("request", "request")
FMT = "[#{id}]"


email = inbound_email


def token_of(subject: str, fmt: str = FMT) -> int | None:
    mail = email(subject=subject)
    found = record_lookups(mail, facts_from_inbound(mail), REQUEST, fmt)
    return next((lookup.record_id for lookup in found if lookup.by == "token"), None)


@pytest.mark.parametrize(
    "subject",
    [
        "Re: [EXT] [#123] Drucker",
        "RE: [#123] Drucker",
        "Re: Drucker [#123]",
        "[EXTERNAL] Re: [#123] Drucker",
        "*SPAM* RE: [#123] Drucker",
        "[SPAM] [EXTERNAL] AW: WG: [#123] Drucker",
        "=?utf-8?q?=5B#123=5D?= Drucker",
        "Re:=?utf-8?q?=5B#123=5D?= Drucker",
        "=?UTF-8?B?UmU6IFsjMTIzXSBEcnVja2Vy?=",
        "=?utf-8?q?Re=3A_=5B=23123=5D_Drucker?=",
        "回复\uff1a[#123] 打印机",
    ],
)
def test_a_token_moved_tagged_folded_or_encoded_by_clients_names_the_record(subject: str) -> None:
    assert token_of(subject) == 123


@pytest.mark.parametrize(
    "header",
    [
        b"Subject: Re: =?utf-8?q?=5B#123=5D?=\r\n Drucker",
        b"Subject: Re: Drucker, der seit Montag nicht mehr druckt\r\n [#123]",
        b"Subject: =?utf-8?q?Re=3A_Drucker?=\r\n =?utf-8?q?_=5B#123=5D?=",
    ],
)
def test_a_token_folded_or_encoded_in_the_raw_mimes_subject_names_the_record(
    header: bytes,
) -> None:
    raw = (
        b"Message-ID: <r2@customer.example>\r\nFrom: ann@customer.example\r\n"
        + header
        + b"\r\n\r\nStill broken.\r\n"
    )
    facts = parse_mime(raw).facts
    mail = email(subject="Re: Drucker")  # what a gateway left in the contract
    assert record_lookups(mail, facts, REQUEST, FMT)[0] == Lookup("token", record_id=123)


@pytest.mark.parametrize(
    ("subject", "fmt"),
    [
        ("Re: [ZD#123] Drucker", "#{id}"),  # another helpdesk's token, same number
        ("Re: [INC-123] Drucker", "[#{id}]"),
        ("Re: [Ticket#123] Drucker", "[#{id}]"),
        ("Re: [HD-123] Drucker", "[SUP-{id}]"),
        ("Re: [XSUP-123] Drucker", "[SUP-{id}]"),
        ("Re: Order#123 Drucker", "#{id}"),
    ],
)
def test_another_systems_token_names_no_record(subject: str, fmt: str) -> None:
    assert token_of(subject, fmt) is None


def test_a_format_that_starts_with_a_symbol_still_finds_its_own_token() -> None:
    assert find_record_token("Re: #123 Drucker", "#{id}") == 123
    assert find_record_token("Re:#123", "#{id}") == 123
    assert find_record_token("[#123]", "#{id}") == 123


def message_lookup(mail: InboundEmail, raw: bytes | None = None) -> tuple[str, ...]:
    facts = facts_from_inbound(mail, raw)
    found = record_lookups(mail, facts, REQUEST, FMT)
    return next((lookup.ids for lookup in found if lookup.by == "message_ids"), ())


def test_a_mobile_clients_reply_with_in_reply_to_only_names_its_parent() -> None:
    mail = email(subject="Re: Drucker", headers=MailHeaders(in_reply_to="<ours@x.example>"))
    assert message_lookup(mail) == ("<ours@x.example>",)


def test_references_cut_to_the_first_and_last_ids_still_name_every_id_they_carry() -> None:
    refs = "<root@a.example> <p7@a.example> <p8@a.example> <p9@a.example>"
    mail = email(headers=MailHeaders(in_reply_to="<p9@a.example>", references=[refs]))
    ids = message_lookup(mail)
    assert ids == ("<p9@a.example>", "<p8@a.example>", "<p7@a.example>", "<root@a.example>")


@pytest.mark.parametrize(
    "references",
    [
        "<root@a.example>,<p1@a.example>,<p2@a.example>",
        "<root@a.example>, <p1@a.example>,\t<p2@a.example>",
        "root@a.example p1@a.example p2@a.example",
        "root@a.example,p1@a.example, p2@a.example",
        "<root@a.example> p1@a.example <p2@a.example>",
        "<root@a.example> <root@a.example> <p1@a.example> <p2@a.example> <p2@a.example>",
        "<root@a.example> (Ann's first mail) p1@a.example <p2@a.example>",
    ],
)
def test_references_separated_by_commas_without_brackets_or_repeated_name_each_id_once(
    references: str,
) -> None:
    mail = email(headers=MailHeaders(references=[references]))
    assert message_lookup(mail) == ("<p2@a.example>", "<p1@a.example>", "<root@a.example>")
    raw = (
        b"Message-ID: <r2@customer.example>\r\nFrom: ann@customer.example\r\n"
        b"Subject: Re: Drucker\r\nReferences: " + references.encode() + b"\r\n\r\nHi\r\n"
    )
    assert message_lookup(email(), raw) == ("<p2@a.example>", "<p1@a.example>", "<root@a.example>")


def test_references_folded_over_lines_and_repeated_headers_name_every_id() -> None:
    raw = (
        b"Message-ID: <r2@customer.example>\r\nFrom: ann@customer.example\r\n"
        b"In-Reply-To: p2@a.example\r\n"
        b"References: <root@a.example>\r\n\t<p1@a.example>,\r\n <p2@a.example>\r\n"
        b"References: <p2@a.example>\r\n"
        b"Subject: Re: Drucker\r\n\r\nHi\r\n"
    )
    assert message_lookup(email(), raw) == ("<p2@a.example>", "<p1@a.example>", "<root@a.example>")


def test_an_outlook_reply_with_thread_index_only_threads_by_its_conversation() -> None:
    """Outlook without References: Graph's conversationId (derived from Thread-Index and
    Thread-Topic) names the conversation; there are no ids to look up."""
    raw = (
        b"Message-ID: <r2@customer.example>\r\nFrom: ann@customer.example\r\n"
        b"Thread-Topic: Drucker\r\nThread-Index: AdlPnW3Hq2H0mRmPQ0uR8Jx0Ym3a9AAAbCdE\r\n"
        b"Subject: AW: Drucker\r\n\r\nHi\r\n"
    )
    mail = email(subject="AW: Drucker", conversation_id="AAQkAGI2")
    found = record_lookups(mail, facts_from_inbound(mail, raw), REQUEST, FMT)
    assert [lookup.by for lookup in found] == ["conversation", "answered_by"]
    assert found[0] == Lookup("conversation", ids=("AAQkAGI2",))
