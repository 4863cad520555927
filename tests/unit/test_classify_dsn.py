"""Delivery status notifications as MTAs really send them: returned messages in a transfer
encoding, internationalised DSNs (RFC 6533), several recipients, delays against failures."""

from __future__ import annotations

import base64
import quopri

import pytest

from services.ticketer.domain.classify import classify
from services.ticketer.domain.mime import parse_mime
from services.ticketer.domain.verdict import Classification, DeliveryFailure

MAILBOX = "helpdesk@contoso.example"
OWN_DOMAIN = "mailpipe.contoso.example"
OUR_ID = f"<rec-42.1@{OWN_DOMAIN}>"

RETURNED = f"""From: Helpdesk <helpdesk@contoso.example>
To: =?utf-8?q?J=C3=BCrgen?= <gone@customer.example>
Subject: [#42] Your printer
Date: Mon, 2 Nov 2026 11:58:00 +0000
Message-ID: {OUR_ID}
X-Mailpipe-Record: 42
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello, your printer is fixed.
"""

#: The same message as an SMTPUTF8 mail writes it: raw UTF-8 in the headers (RFC 6532).
RETURNED_GLOBAL = f"""From: Helpdesk <helpdesk@contoso.example>
To: Jürgen <jürgen@müller.example>
Subject: [#42] Ihr Drucker
Message-ID: {OUR_ID}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hallo, Ihr Drucker ist repariert.
"""


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def status_block(recipient: str, action: str, status: str, diagnostic: str = "") -> str:
    diag = f"Diagnostic-Code: smtp; {diagnostic}\n" if diagnostic else ""
    return (
        f"Final-Recipient: rfc822; {recipient}\n"
        f"Original-Recipient: rfc822;{recipient}\n"
        f"Action: {action}\nStatus: {status}\n{diag}"
    )


def dsn_mail(
    status_part: str,
    returned_part: str,
    *,
    status_type: str = "message/delivery-status",
    subject: str = "Undelivered Mail Returned to Sender",
    status_base64: bool = False,
) -> bytes:
    status_body = (
        "Reporting-MTA: dns; mx.customer.example\n"
        "Arrival-Date: Mon, 2 Nov 2026 11:58:01 +0000\n\n"
        f"{status_part}"
    )
    if status_base64:
        status_type += "\nContent-Transfer-Encoding: base64"
        status_body = b64(status_body)
    text = f"""Return-Path: <>
From: MAILER-DAEMON@mx.customer.example (Mail Delivery System)
To: helpdesk@contoso.example
Subject: {subject}
Date: Mon, 2 Nov 2026 12:00:00 +0000
Message-ID: <20261102120000.4711@mx.customer.example>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="=_DSN"

--=_DSN
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.customer.example.
I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--=_DSN
Content-Type: {status_type}

{status_body}
--=_DSN
{returned_part}
--=_DSN--
"""
    return crlf(text).encode("utf-8")


def verdict(raw: bytes) -> Classification:
    return classify(parse_mime(raw).facts, mailbox=MAILBOX, own_message_id_domain=OWN_DOMAIN)


FAILED = status_block("gone@customer.example", "failed", "5.1.1", "550 5.1.1 User unknown")


def b64(text: str) -> str:
    data = base64.encodebytes(crlf(text).encode("utf-8")).decode("ascii")
    return data


def qp(text: str) -> str:
    return quopri.encodestring(crlf(text).encode("utf-8")).decode("ascii")


@pytest.mark.parametrize(
    "returned_part",
    [
        f"Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n{b64(RETURNED)}",
        "Content-Type: message/rfc822\nContent-Transfer-Encoding: quoted-printable\n\n"
        + qp(RETURNED),
        "Content-Type: text/rfc822-headers\nContent-Transfer-Encoding: base64\n\n"
        + b64(RETURNED.split("\n\n")[0] + "\n"),
        "Content-Type: text/rfc822-headers; charset=utf-8\n"
        "Content-Transfer-Encoding: quoted-printable\n\n" + qp(RETURNED.split("\n\n")[0] + "\n"),
        f"Content-Type: message/global\nContent-Transfer-Encoding: base64\n\n"
        f"{b64(RETURNED_GLOBAL)}",
        f"Content-Type: message/global\nContent-Transfer-Encoding: 8bit\n\n{RETURNED_GLOBAL}",
        "Content-Type: message/global-headers\nContent-Transfer-Encoding: base64\n\n"
        + b64(RETURNED_GLOBAL.split("\n\n")[0] + "\n"),
        "Content-Type: message/global-headers\n\n" + RETURNED_GLOBAL.split("\n\n")[0] + "\n",
    ],
    ids=[
        "rfc822-base64",
        "rfc822-qp",
        "headers-base64",
        "headers-qp",
        "global-base64",
        "global-8bit",
        "global-headers-base64",
        "global-headers-8bit",
    ],
)
def test_an_encoded_or_international_returned_message_still_links_the_bounce(
    returned_part: str,
) -> None:
    parsed = parse_mime(dsn_mail(FAILED, returned_part))
    result = verdict(dsn_mail(FAILED, returned_part))
    assert (result.kind, result.reason) == ("bounce", "dsn:5.1.1")
    assert result.original_message_id == OUR_ID
    assert dict(parsed.facts.returned_headers).get("subject", "").startswith("[#42] ")
    assert not parsed.defects


def test_an_encoded_returned_message_is_kept_decoded_as_an_attachment() -> None:
    part = f"Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n{b64(RETURNED)}"
    attachments = parse_mime(dsn_mail(FAILED, part)).attachments
    assert [a.content_type for a in attachments] == ["message/rfc822"]
    assert f"Message-ID: {OUR_ID}".encode() in attachments[0].data
    assert b"Hello, your printer is fixed." in attachments[0].data


def test_a_global_delivery_status_is_read_like_a_delivery_status() -> None:
    status = status_block(
        "jürgen@müller.example", "failed", "5.1.1", "550 5.1.1 <jürgen@müller.example> unknown"
    ).replace("rfc822;", "utf-8;")
    part = f"Content-Type: message/global\n\n{RETURNED_GLOBAL}"
    result = verdict(dsn_mail(status, part, status_type="message/global-delivery-status"))
    assert (result.kind, result.reason, result.hard) == ("bounce", "dsn:5.1.1", True)
    assert [f.recipient for f in result.failures] == ["jürgen@müller.example"]
    assert result.original_message_id == OUR_ID


def test_a_base64_delivery_status_is_read_too() -> None:
    status = status_block("gone@customer.example", "failed", "5.2.2", "552 5.2.2 Mailbox full")
    for status_type in ("message/global-delivery-status", "message/delivery-status"):
        raw = dsn_mail(
            status,
            f"Content-Type: message/rfc822\n\n{RETURNED}",
            status_type=status_type,
            status_base64=True,
        )
        result = verdict(raw)
        assert (result.reason, result.hard) == ("dsn:5.2.2", True), status_type
        assert result.failures[0].recipient == "gone@customer.example"


def test_a_dsn_for_several_recipients_reports_each_that_did_not_succeed() -> None:
    status = "\n".join(
        [
            status_block("gone@customer.example", "failed", "5.1.1", "550 5.1.1 User unknown"),
            status_block("ok@customer.example", "delivered", "2.0.0"),
            status_block("full@customer.example", "delayed", "4.2.2", "452 4.2.2 Mailbox full"),
            status_block("spam@customer.example", "Failed", "5.0.0", "550 5.7.1 Rejected as spam"),
        ]
    )
    result = verdict(dsn_mail(status, f"Content-Type: message/rfc822\n\n{RETURNED}"))
    assert result.kind == "bounce" and result.hard
    assert result.failures == (
        DeliveryFailure("gone@customer.example", "5.1.1", "550 5.1.1 User unknown", "failed"),
        DeliveryFailure("full@customer.example", "4.2.2", "452 4.2.2 Mailbox full", "delayed"),
        DeliveryFailure("spam@customer.example", "5.7.1", "550 5.7.1 Rejected as spam", "failed"),
    )
    assert result.original_message_id == OUR_ID


@pytest.mark.parametrize(
    ("blocks", "hard", "reason"),
    [
        ([("a@customer.example", "delayed", "4.4.7")], False, "dsn:4.4.7"),
        ([("a@customer.example", "delayed", "4.4.1"), ("b@customer.example", "delayed", "4.2.2")],
         False, "dsn:4.4.1"),
        # The MTA gave up, but for a temporary reason: the address itself is not known bad.
        ([("a@customer.example", "failed", "4.4.7")], False, "dsn:4.4.7"),
        ([("a@customer.example", "delayed", "4.4.1"), ("b@customer.example", "failed", "5.1.1")],
         True, "dsn:4.4.1"),
        ([("a@customer.example", "failed", "5.4.4")], True, "dsn:5.4.4"),
    ],
)  # fmt: skip
def test_a_delay_is_a_soft_bounce_and_a_5xx_failure_a_hard_one(
    blocks: list[tuple[str, str, str]], hard: bool, reason: str
) -> None:
    status = "\n".join(status_block(*block) for block in blocks)
    result = verdict(dsn_mail(status, f"Content-Type: message/rfc822\n\n{RETURNED}"))
    assert (result.kind, result.reason, result.hard) == ("bounce", reason, hard)
    assert [f.action for f in result.failures] == [action for _, action, _ in blocks]
    assert not result.creates_record and not result.may_acknowledge


def test_a_delay_warning_with_only_the_headers_returned_is_soft() -> None:
    status = status_block("a@customer.example", "delayed", "4.4.1", "connect timed out")
    headers = "Content-Type: text/rfc822-headers\n\n" + RETURNED.split("\n\n")[0] + "\n"
    result = verdict(dsn_mail(status, headers, subject="Delayed Mail (still being retried)"))
    assert (result.kind, result.hard) == ("bounce", False)
    assert result.failures[0].action == "delayed"
    assert result.original_message_id == OUR_ID
