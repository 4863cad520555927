"""Bounces (DSN and text NDRs), success notices and feedback reports."""

from __future__ import annotations

import pytest

from services.ticketer.domain.classify import classify
from services.ticketer.domain.mime import parse_mime
from services.ticketer.domain.verdict import Classification, DeliveryFailure

MAILBOX = "helpdesk@contoso.example"
OWN_DOMAIN = "mailpipe.contoso.example"
OUR_ID = f"<rec-42.1@{OWN_DOMAIN}>"


def verdict(raw: bytes) -> Classification:
    return classify(parse_mime(raw).facts, mailbox=MAILBOX, own_message_id_domain=OWN_DOMAIN)


def report(report_type: str, report_part: str, returned: str, subject: str) -> bytes:
    return f"""From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>
To: helpdesk@contoso.example
Subject: {subject}
Message-ID: <dsn-1@mx.customer.example>
Return-Path: <>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type={report_type}; boundary="BOUND"

--BOUND
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.customer.example.

--BOUND
{report_part}
--BOUND
{returned}
--BOUND--
""".replace("\n", "\r\n").encode()


RETURNED_MESSAGE = f"""Content-Type: message/rfc822

From: Helpdesk <helpdesk@contoso.example>
To: gone@customer.example
Subject: [#42] Your printer
Message-ID: {OUR_ID}
X-Mailpipe-Record: 42

Hello.
"""


def dsn(action: str, status: str, diagnostic: str = "") -> str:
    diag = f"Diagnostic-Code: smtp; {diagnostic}\n" if diagnostic else ""
    return f"""Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.example

Final-Recipient: rfc822; gone@customer.example
Original-Recipient: rfc822;gone@customer.example
Action: {action}
Status: {status}
{diag}"""


def test_dsn_bounce_of_our_mail_is_a_bounce_not_a_loop() -> None:
    raw = report(
        "delivery-status",
        dsn("failed", "5.1.1", "550 5.1.1 <gone@customer.example>: Recipient address rejected"),
        RETURNED_MESSAGE,
        "Undelivered Mail Returned to Sender",
    )
    result = verdict(raw)
    assert (result.kind, result.reason) == ("bounce", "dsn:5.1.1")
    assert result.failures == (
        DeliveryFailure(
            recipient="gone@customer.example",
            status="5.1.1",
            diagnostic="550 5.1.1 <gone@customer.example>: Recipient address rejected",
            action="failed",
        ),
    )
    assert result.original_message_id == OUR_ID
    assert result.hard and not result.creates_record and not result.may_acknowledge


def test_generic_status_is_refined_from_the_diagnostic() -> None:
    raw = report(
        "delivery-status",
        dsn("failed", "5.0.0", "550 5.7.1 Message rejected as spam"),
        RETURNED_MESSAGE,
        "Returned mail",
    )
    assert verdict(raw).failures[0].status == "5.7.1"


def test_returned_headers_only_still_give_the_original_message_id() -> None:
    headers_only = (
        "Content-Type: text/rfc822-headers\n\n"
        f"From: helpdesk@contoso.example\nMessage-Id: {OUR_ID}\n"
    )
    raw = report("delivery-status", dsn("failed", "5.2.2"), headers_only, "Delivery failure")
    result = verdict(raw)
    assert result.original_message_id == OUR_ID
    assert result.reason == "dsn:5.2.2"


def test_delayed_dsn_is_a_soft_bounce() -> None:
    raw = report("delivery-status", dsn("delayed", "4.4.7"), RETURNED_MESSAGE, "Delayed Mail")
    result = verdict(raw)
    assert (result.kind, result.hard) == ("bounce", False)
    assert result.failures[0].action == "delayed"


def test_success_dsn_is_delivery_success() -> None:
    for action in ("delivered", "relayed", "expanded"):
        raw = report("delivery-status", dsn(action, "2.0.0"), RETURNED_MESSAGE, "Delivered")
        result = verdict(raw)
        assert (result.kind, result.reason) == ("delivery_success", f"dsn_success:{action}")
        assert result.original_message_id == OUR_ID


def test_arf_feedback_report() -> None:
    feedback = """Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
"""
    raw = report("feedback-report", feedback, RETURNED_MESSAGE, "Abuse report")
    result = verdict(raw)
    assert (result.kind, result.reason) == ("feedback", "arf:abuse")
    assert result.original_message_id == OUR_ID


def test_exchange_html_ndr_without_report_part() -> None:
    raw = f"""From: postmaster@customer.example
To: helpdesk@contoso.example
Subject: Undeliverable: [#42] Your printer
Message-ID: <ndr-2@customer.example>
Content-Type: text/html; charset=utf-8

<html><body><p>Your message to <b>gone@customer.example</b> couldn't be delivered.</p>
<p>Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'</p>
<pre>Message-ID: {OUR_ID.replace("<", "&lt;").replace(">", "&gt;")}</pre></body></html>
""".replace("\n", "\r\n").encode()
    result = verdict(raw)
    assert (result.kind, result.reason) == ("bounce", "ndr:subject:5.1.1")
    assert result.failures[0].recipient == "gone@customer.example"
    assert result.original_message_id == OUR_ID
    assert result.hard


def test_qmail_failure_notice() -> None:
    raw = f"""From: MAILER-DAEMON@mx.customer.example
To: helpdesk@contoso.example
Subject: failure notice
Message-ID: <q-3@mx.customer.example>

Hi. This is the qmail-send program at mx.customer.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<gone@customer.example>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

Return-Path: <helpdesk@contoso.example>
Message-ID: {OUR_ID}
Subject: [#42] Your printer
""".replace("\n", "\r\n").encode()
    result = verdict(raw)
    assert result.kind == "bounce"
    assert result.failures[0].recipient == "gone@customer.example"
    assert result.failures[0].status == "5.1.1"
    assert result.original_message_id == OUR_ID


def test_bounce_wording_from_a_null_sender_is_a_bounce() -> None:
    raw = b"""From: Mail System <notices@mx.customer.example>
To: helpdesk@contoso.example
Subject: Your message
Return-Path: <>
Message-ID: <w-4@mx.customer.example>

Your message could not be delivered to gone@customer.example: 550 user unknown.
"""
    result = verdict(raw)
    assert (result.kind, result.reason) == ("bounce", "ndr:text:5.0.0")
    assert result.hard


def test_auto_reply_with_null_sender_and_no_bounce_wording_is_an_auto_reply() -> None:
    raw = b"""From: dave@partner.example
To: helpdesk@contoso.example
Subject: Re: Your printer
Return-Path: <>
Auto-Submitted: auto-replied
Message-ID: <a-5@partner.example>

I am away until Friday.
"""
    assert verdict(raw).kind == "auto_reply"


def test_person_forwarding_a_message_as_attachment_is_a_request() -> None:
    raw = crlf_mail(
        """From: Alice <alice@customer.example>
To: helpdesk@contoso.example
Subject: Why does this keep happening?
Message-ID: <fw-6@customer.example>
Content-Type: multipart/mixed; boundary=F

--F
Content-Type: text/plain

My mail could not be delivered to the supplier again, see attached.
--F
Content-Type: message/rfc822

From: alice@customer.example
Message-ID: <orig-6@customer.example>
Subject: order

x
--F--
"""
    )
    assert verdict(raw).kind == "request"


def test_exim_failed_recipients_header() -> None:
    raw = crlf_mail(
        """From: Partner Relay <relay@partner.example>
To: helpdesk@contoso.example
Subject: Problem
X-Failed-Recipients: gone@partner.example
Message-ID: <x-7@partner.example>

A message that you sent could not be delivered to one or more of its recipients.
  gone@partner.example
    host mx.partner.example: 550 5.1.1 unknown user
"""
    )
    result = verdict(raw)
    assert (result.kind, result.reason) == ("bounce", "ndr:text:5.1.1")
    assert [f.recipient for f in result.failures] == ["gone@partner.example"]


def crlf_mail(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


def ses_mail(body: str) -> bytes:
    return f"""From: AWS Notifications <no-reply@sns.amazonaws.com>
To: helpdesk@contoso.example
Subject: AWS Notification Message
Message-ID: <sns-1@sns.amazonaws.com>
Content-Type: text/plain; charset=us-ascii

{body}
""".replace("\n", "\r\n").encode()


def test_ses_events_bare_or_inside_an_sns_envelope_are_read_from_the_body() -> None:
    bare = '{"notificationType":"Complaint","complaint":{}}'
    envelope = '{"Type":"Notification","Message":"{\\"notificationType\\":\\"Delivery\\"}"}'

    assert verdict(ses_mail(bare)).reason == "ses:complaint"
    assert verdict(ses_mail(envelope)).reason == "ses:delivery"
    assert verdict(ses_mail("notificationType is a word here")).reason == "request"


def test_a_ses_lookalike_nested_past_the_parsers_depth_is_read_as_text() -> None:
    """A body that names a SES event and then nests deeper than the JSON parser recurses
    (a hostile mail) is still classified by its text, without the recipients the JSON names."""
    deep = '{"notificationType":"Bounce","bounce":' + "[" * 100_000
    result = verdict(ses_mail(deep))
    assert (result.kind, result.reason) == ("bounce", "ses:bounce")
    assert [f.recipient for f in result.failures] == [""], "no recipient could be read"


@pytest.mark.timeout(60)  # a guard against the quadratic scan; the assertions are on results
def test_a_notice_with_a_long_run_of_address_characters_is_read_once() -> None:
    """The recipients of a text notice are looked for from where a run of address
    characters starts, not from each of its characters: 500 KB of letters took minutes."""
    raw = crlf_mail(
        "From: MAILER-DAEMON@mx.customer.example\n"
        "To: helpdesk@contoso.example\n"
        "Subject: failure notice\n"
        "Message-ID: <q-9@mx.customer.example>\n\n"
        "I wasn't able to deliver your message to gone@customer.example (#5.1.1)\n"
        + "x" * 500_000
        + "\n"
    )
    result = verdict(raw)
    assert result.kind == "bounce"
    assert [f.recipient for f in result.failures] == ["gone@customer.example"]
