"""Classification rules, one small hand-made message per rule."""

from __future__ import annotations

from services.ticketer.domain.classify import classify
from services.ticketer.domain.mime import parse_mime
from services.ticketer.domain.verdict import Classification

MAILBOX = "helpdesk@contoso.example"
OWN_DOMAIN = "mailpipe.contoso.example"


def mail(headers: str, body: str = "Hello, my printer is broken.\n") -> bytes:
    """A message from header lines (one per line, no indentation needed) and a body."""
    lines = [line.strip() for line in headers.strip().splitlines()]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode("utf-8")


def verdict(raw: bytes, ignore: tuple[str, ...] = ()) -> Classification:
    return classify(
        parse_mime(raw).facts,
        mailbox=MAILBOX,
        own_message_id_domain=OWN_DOMAIN,
        ignore_senders=ignore,
    )


CUSTOMER = """
From: Alice Customer <alice@customer.example>
To: Helpdesk <helpdesk@contoso.example>
Subject: Printer on floor 3
Message-ID: <abc123@customer.example>
"""


# --- requests -------------------------------------------------------------------------------


def test_plain_customer_mail_is_a_request_that_may_be_acknowledged() -> None:
    result = verdict(mail(CUSTOMER))
    assert (result.kind, result.reason) == ("request", "request")
    assert result.creates_record and result.may_acknowledge


def test_customer_reply_to_our_mail_is_a_request_not_a_loop() -> None:
    raw = mail(
        CUSTOMER
        + f"In-Reply-To: <rec-42.1@{OWN_DOMAIN}>\n"
        + f"References: <rec-42.0@{OWN_DOMAIN}> <rec-42.1@{OWN_DOMAIN}>\n"
        + "Subject: RE: [#42] Printer on floor 3"
    )
    assert verdict(raw).kind == "request"


def test_auto_submitted_no_is_an_ordinary_request() -> None:
    assert verdict(mail(CUSTOMER + "Auto-Submitted: no")).kind == "request"


def test_precedence_first_class_is_an_ordinary_request() -> None:
    assert verdict(mail(CUSTOMER + "Precedence: first-class")).kind == "request"


def test_x_auto_response_suppress_alone_is_a_request_without_acknowledgement() -> None:
    result = verdict(mail(CUSTOMER + "X-Auto-Response-Suppress: DR, OOF, AutoReply"))
    assert result.kind == "request"
    assert result.suppress_autoreply and not result.may_acknowledge


def test_list_mail_is_a_request_without_acknowledgement() -> None:
    result = verdict(mail(CUSTOMER + "List-Id: <support.customer.example>"))
    assert result.kind == "request" and not result.may_acknowledge


def test_out_of_office_subject_alone_from_a_person_is_a_request() -> None:
    raw = mail(CUSTOMER.replace("Printer on floor 3", "Out of office: who covers the printer?"))
    assert verdict(raw).kind == "request"


# --- auto-replies ---------------------------------------------------------------------------


def test_exchange_out_of_office() -> None:
    raw = mail(
        """
        From: Bob Partner <bob@partner.example>
        To: helpdesk@contoso.example
        Subject: Automatic reply: Printer on floor 3
        Message-ID: <oof1@partner.example>
        X-Auto-Response-Suppress: All
        X-MS-Exchange-Inbox-Rules-Loop: bob@partner.example
        Return-Path: <>
        """,
        "I am out of the office until Monday.\n",
    )
    result = verdict(raw)
    assert (result.kind, result.reason) == ("auto_reply", "ms_oof:inbox_rules_loop")
    assert not result.creates_record and not result.may_acknowledge


def test_exchange_out_of_office_marked_only_by_suppress_header_and_subject() -> None:
    subject = CUSTOMER.replace("Printer on floor 3", "Out of Office: Printer")
    raw = mail(subject + "X-Auto-Response-Suppress: All")
    assert verdict(raw).reason == "ms_oof:auto_response_suppress"


def test_gmail_vacation_responder() -> None:
    raw = mail(
        """
        From: Carol <carol@gmail.example>
        To: helpdesk@contoso.example
        Subject: Re: Printer on floor 3
        Message-ID: <CAvacation@mail.gmail.example>
        Auto-Submitted: auto-replied
        X-Autoreply: yes
        In-Reply-To: <rec-7.1@mailpipe.contoso.example>
        """,
        "I'm on vacation until 3 January.\n",
    )
    assert (verdict(raw).kind, verdict(raw).reason) == ("auto_reply", "auto_submitted:auto-replied")


def test_rfc3834_auto_generated() -> None:
    raw = mail(CUSTOMER + "Auto-Submitted: auto-generated; owner-email=ops@customer.example")
    assert verdict(raw).reason == "auto_submitted:auto-generated"


def test_precedence_bulk_junk_list() -> None:
    for value in ("bulk", "junk", "list", "Bulk"):
        result = verdict(mail(CUSTOMER + f"Precedence: {value}"))
        assert (result.kind, result.reason) == ("auto_reply", f"precedence:{value.lower()}")


def test_vendor_autoreply_headers() -> None:
    assert verdict(mail(CUSTOMER + "X-Autoreply: yes")).reason == "x_autoreply"
    assert verdict(mail(CUSTOMER + "X-Autorespond: vacation")).reason == "x_autorespond"
    assert verdict(mail(CUSTOMER + "X-Precedence: bulk")).reason == "x_precedence:bulk"


# --- loops ----------------------------------------------------------------------------------


def test_mail_from_the_mailbox_itself_is_a_loop_whatever_the_case() -> None:
    raw = mail(CUSTOMER.replace("alice@customer.example", "HelpDesk@Contoso.Example"))
    assert (verdict(raw).kind, verdict(raw).reason) == ("loop", "from_self")


def test_our_own_x_mailpipe_header_is_a_loop() -> None:
    raw = mail(CUSTOMER + "X-Mailpipe-Record: 42")
    assert verdict(raw).reason == "x_mailpipe_header"


def test_own_message_id_domain_is_a_loop() -> None:
    raw = mail(CUSTOMER.replace("<abc123@customer.example>", f"<rec-1.2@{OWN_DOMAIN.upper()}>"))
    assert verdict(raw).reason == "own_message_id"


def test_x_loop_naming_the_mailbox_is_a_loop() -> None:
    assert verdict(mail(CUSTOMER + "X-Loop: helpdesk@contoso.example")).reason == "x_loop"
    assert verdict(mail(CUSTOMER + "X-Loop: other@customer.example")).kind == "request"


def test_loop_wins_over_ignore_and_auto_reply() -> None:
    raw = mail(CUSTOMER + "X-Mailpipe-Job: j1\nAuto-Submitted: auto-replied")
    assert verdict(raw, ignore=("*@customer.example",)).kind == "loop"


# --- ignore_senders -------------------------------------------------------------------------


def test_ignore_senders_exact_address_case_insensitive() -> None:
    result = verdict(mail(CUSTOMER), ignore=("Alice@Customer.Example",))
    assert (result.kind, result.reason) == ("ignored", "ignore_senders:Alice@Customer.Example")


def test_ignore_senders_at_domain() -> None:
    assert verdict(mail(CUSTOMER), ignore=("@customer.example",)).kind == "ignored"
    assert verdict(mail(CUSTOMER), ignore=("@other.example",)).kind == "request"


def test_ignore_senders_subdomain_pattern_does_not_match_the_parent() -> None:
    sub = mail(CUSTOMER.replace("alice@customer.example", "alice@eu.customer.example"))
    assert (
        verdict(sub, ignore=("*.customer.example",)).reason == "ignore_senders:*.customer.example"
    )
    assert verdict(mail(CUSTOMER), ignore=("*.customer.example",)).kind == "request"


def test_ignore_senders_shell_pattern_on_the_address() -> None:
    noreply = mail(CUSTOMER.replace("alice@customer.example", "no-reply@shop.example"))
    assert verdict(noreply, ignore=("no-reply*@*",)).kind == "ignored"
    assert verdict(mail(CUSTOMER), ignore=("no-reply*@*",)).kind == "request"


def test_an_exchange_mail_delivery_warning_is_a_bounce_not_a_request() -> None:
    """Exchange 6.5's advisory 'delivery postponed' notice, from a postmaster address no
    parser reads as one (``<Postmaster\\@example.com@xxx.com>``)."""
    raw = (
        b"From: <Postmaster\\@example.com@xxx.com>\r\nTo: <list-bounces@example.com>\r\n"
        b"Subject: Mail Delivery Warning\r\nMessage-ID: <w1@example.com>\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\n"
        b"This is an advisory-only email.  Please do not reply to it.\r\n"
        b'Delivery of email to this address "calvin@example.com" has been postponed due to '
        b"a full mailbox.\r\n"
    )
    result = verdict(raw)
    assert result.kind == "bounce" and not result.may_acknowledge
