"""Auto-reply header values as mail systems really write them: RFC 5322 comments, parameters,
odd case and whitespace (RFC 3834 ``Auto-Submitted``, ``Precedence``, the vendors' markers)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from libs.common.contracts import Address, MailHeaders
from services.ticketer.domain.classify import classify
from services.ticketer.domain.facts import header_token
from services.ticketer.domain.inbound import facts_from_inbound
from services.ticketer.domain.mime import parse_mime
from services.ticketer.domain.verdict import Classification
from tests.unit.inbound_builders import inbound_email

MAILBOX = "helpdesk@contoso.example"
OWN_DOMAIN = "mailpipe.contoso.example"
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def mail(*lines: str, subject: str = "Printer on floor 3") -> bytes:
    head = [
        "Return-Path: <carol@customer.example>",
        "From: Carol Customer <carol@customer.example>",
        f"To: Helpdesk <{MAILBOX}>",
        f"Subject: {subject}",
        "Date: Mon, 2 Nov 2026 12:00:00 +0100",
        "Message-ID: <m-77@customer.example>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        *lines,
    ]
    return ("\r\n".join(head) + "\r\n\r\nThe printer on floor 3 jams again.\r\n").encode()


def verdict(raw: bytes) -> Classification:
    return classify(parse_mime(raw).facts, mailbox=MAILBOX, own_message_id_domain=OWN_DOMAIN)


def from_contract(**headers: str) -> Classification:
    email = inbound_email(
        mailbox=MAILBOX,
        subject="Printer on floor 3",
        headers=MailHeaders.model_validate(headers),
        **{"from": Address(address="carol@customer.example")},
    )
    return classify(facts_from_inbound(email), mailbox=MAILBOX, own_message_id_domain=OWN_DOMAIN)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        # Dovecot Pigeonhole's vacation extension writes exactly this
        ("Auto-Submitted: auto-replied (vacation)", "auto_submitted:auto-replied"),
        ('Auto-Submitted: Auto-Generated; owner-email="ops@customer.example"',
         "auto_submitted:auto-generated"),
        ("Auto-Submitted: AUTO-REPLIED", "auto_submitted:auto-replied"),
        ("Auto-Submitted:auto-notified", "auto_submitted:auto-notified"),
        ("Auto-Submitted: \t auto-generated \t", "auto_submitted:auto-generated"),
        ("Auto-Submitted: (sent by a rule) auto-generated", "auto_submitted:auto-generated"),
        ("Auto-Submitted:\r\n auto-replied", "auto_submitted:auto-replied"),
        ("auto-submitted: auto-replied", "auto_submitted:auto-replied"),
        ("Precedence: bulk (list)", "precedence:bulk"),
        ("Precedence:junk", "precedence:junk"),
        ("Precedence: BULK", "precedence:bulk"),
        ("Precedence:  list ; x=1", "precedence:list"),
        ("Precedence: (mass mail) bulk", "precedence:bulk"),
        ("X-Precedence: junk (spam)", "x_precedence:junk"),
        ("X-Autoreply: yes", "x_autoreply"),
        ("X-AutoReply: YES", "x_autoreply"),
        ("X-Autorespond: Jane is away", "x_autorespond"),
        ("X-Autoresponder: vacation", "x_autoresponder"),
    ],
)  # fmt: skip
def test_an_automatic_marker_is_read_through_comments_parameters_case_and_space(
    line: str, reason: str
) -> None:
    result = verdict(mail(line))
    assert (result.kind, result.reason) == ("auto_reply", reason)
    assert not result.creates_record and not result.may_acknowledge


@pytest.mark.parametrize(
    "line",
    [
        "Auto-Submitted: no (manually sent)",
        "Auto-Submitted: No",
        "Auto-Submitted:  NO  ",
        "Auto-Submitted: (typed by a person) no",
        "Auto-Submitted: no; reason=manual",
        'Auto-Submitted: "no"',
        "Precedence: first-class",
        "Precedence: normal (default)",
        "Precedence: bulky-items",
        "X-Autoreply: no",
        "X-Autoreply: false",
        "X-Autorespond: 0",
    ],
)
def test_a_marker_that_says_no_keeps_the_mail_human(line: str) -> None:
    result = verdict(mail(line))
    assert (result.kind, result.reason) == ("request", "request")
    assert result.creates_record and result.may_acknowledge


def test_the_contract_path_reads_header_values_the_same_way() -> None:
    assert from_contract(auto_submitted="no (manually sent)").kind == "request"
    assert from_contract(auto_submitted="auto-replied (vacation)").reason == (
        "auto_submitted:auto-replied"
    )
    assert from_contract(precedence="bulk (list)").reason == "precedence:bulk"


@pytest.mark.parametrize(
    ("value", "token"),
    [
        ("auto-replied (vacation)", "auto-replied"),
        ('Auto-Generated; owner-email="x@y"', "auto-generated"),
        ("(a (nested) comment) no", "no"),
        ('"bulk"', "bulk"),
        ("  \t ", ""),
        ("(only a comment)", ""),
    ],
)
def test_header_token(value: str, token: str) -> None:
    assert header_token(value) == token


# --- markers that do not make an auto-reply on their own -----------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "X-Auto-Response-Suppress: All",
        "X-Auto-Response-Suppress: OOF, AutoReply",
        "X-Auto-Response-Suppress: oof (no out-of-office)",
        "X-Auto-Response-Suppress:DR,RN,NRN,OOF,AutoReply",
        "X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent",
        "X-MS-Exchange-Inbox-Rules-Loop: dana@customer.example",
        "List-Id: Customer support list <support.customer.example>",
        "List-Unsubscribe: <mailto:leave@lists.customer.example>",
    ],
)
def test_a_marker_alone_keeps_the_request_but_spares_it_an_acknowledgement(line: str) -> None:
    result = verdict(mail(line))
    assert (result.kind, result.reason) == ("request", "request")
    assert result.creates_record and result.suppress_autoreply and not result.may_acknowledge


@pytest.mark.parametrize("line", ["X-Auto-Response-Suppress: DR", "X-Auto-Response-Suppress: None"])
def test_suppressing_only_receipts_still_allows_an_acknowledgement(line: str) -> None:
    assert verdict(mail(line)).may_acknowledge


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("X-Auto-Response-Suppress: All", "ms_oof:auto_response_suppress"),
        ("X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent",
         "ms_oof:generated_message_source"),
        ("X-MS-Exchange-Inbox-Rules-Loop: dana@customer.example", "ms_oof:inbox_rules_loop"),
    ],
)  # fmt: skip
def test_a_microsoft_marker_with_an_auto_reply_subject_is_an_out_of_office(
    line: str, reason: str
) -> None:
    result = verdict(mail(line, subject="Abwesenheitsnotiz: Drucker im 3. Stock"))
    assert (result.kind, result.reason) == ("auto_reply", reason)
    person = verdict(mail(line, subject="Re: Automatic reply settings broken"))
    assert person.kind == "request"


def test_a_list_mail_with_precedence_list_is_an_auto_reply() -> None:
    result = verdict(mail("List-Id: <support.customer.example>", "Precedence: list (announce)"))
    assert (result.kind, result.reason) == ("auto_reply", "precedence:list")


# --- the other machine marks the fetcher keeps for the classifier (docs/fetcher.md) ---------


@pytest.mark.parametrize(
    "line",
    ["X-Autogenerated: Forward", "X-Auto-Generated: yes", "X-FC-MachineGenerated: true"],
)
def test_a_machine_generated_mark_spares_the_mail_an_acknowledgement(line: str) -> None:
    result = verdict(mail(line))
    assert (result.kind, result.reason) == ("request", "request")
    assert result.suppress_autoreply and not result.may_acknowledge
    assert verdict(mail(line.split(":")[0] + ": no")).may_acknowledge


def test_exchange_marking_a_mail_as_its_ndr_makes_a_bounce() -> None:
    raw = mail(
        "X-MS-Exchange-Message-Is-NDR:",
        subject="Onbestelbaar: Printer on floor 3",
    ).replace(
        b"The printer on floor 3 jams again.",
        b"Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'",
    )
    result = verdict(raw)
    assert (result.kind, result.reason) == ("bounce", "ndr:ms_is_ndr:5.1.1")
    assert result.hard and not result.creates_record


def test_a_forward_prefix_does_not_outweigh_exchanges_ndr_mark() -> None:
    # A person's forward is a new mail without the mark; with it, Exchange made the notice.
    raw = mail("X-MS-Exchange-Message-Is-NDR: ", subject="FW: Onbestelbaar: Printer on floor 3")
    assert verdict(raw).kind == "bounce"
