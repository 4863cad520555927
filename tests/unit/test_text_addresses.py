"""Address lists as real mail writes them, read alike by the ticketer, the Gmail adapter and
the Graph simulator (``libs.common.text.headers.split_addresses``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from libs.common.text.headers import ADDRESS_TEXT_LIMIT, split_addresses
from services.fetcher.domain import build_inbound
from services.ticketer.domain.mime import parse_mime
from tests.unit.provider_readers import gmail, graph


def mail(to: bytes, sender: bytes = b"Ann <ann@x.test>") -> bytes:
    return (
        b"From: " + sender + b"\r\nTo: " + to + b"\r\nSubject: addresses\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\nbody\r\n"
    )


def _everyone_reads(raw: bytes) -> list[tuple[str, str]]:
    """The To list as the ticketer reads it, checked against both providers (Graph names an
    address without a name by the address)."""
    ticketer = [(a.name, a.address) for a in parse_mime(raw).facts.to]
    assert [(a.name, a.address) for a in gmail(raw).to] == ticketer
    assert [(a.name, a.address) for a in graph(raw).to] == [(n or a, a) for n, a in ticketer]
    return ticketer


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        (
            b'"Doe, John" <john@x.test>, "Smith, A" <a@x.test>',
            [("Doe, John", "john@x.test"), ("Smith, A", "a@x.test")],
        ),
        (
            b"=?utf-8?q?M=C3=BCller=2C_Anna?= <anna@x.test>, bob@x.test",
            [("Müller, Anna", "anna@x.test"), ("", "bob@x.test")],
        ),
        (
            # an unquoted name with a comma, as broken mailers write it
            "Müller, Jürgen <j@x.test>, Bob <b@x.test>".encode("latin-1"),
            [("Müller, Jürgen", "j@x.test"), ("Bob", "b@x.test")],
        ),
        (b"undisclosed-recipients:;", []),
        (
            b'Team: a@x.test, "B, b" <b@x.test>;, c@x.test',
            [("", "a@x.test"), ("B, b", "b@x.test"), ("", "c@x.test")],
        ),
        (b'"john doe"@example.com', [("", '"john doe"@example.com')]),
        (
            b"user@[192.0.2.1], Ann <ann@[IPv6:2001:db8::1]>",
            [("", "user@[192.0.2.1]"), ("Ann", "ann@[IPv6:2001:db8::1]")],
        ),
        (
            b'ann@x.test, <<<>>>, ;; bob@x.test , @@@, "Carl" <carl@x.test>',
            [("", "ann@x.test"), ("", "bob@x.test"), ("Carl", "carl@x.test")],
        ),
        (b"ann@x.test bob@x.test", [("", "ann@x.test"), ("", "bob@x.test")]),  # no comma
        (b"MAILER-DAEMON", [("", "MAILER-DAEMON")]),
    ],
)
def test_address_lists_as_real_mail_writes_them(to: bytes, expected: list) -> None:
    assert _everyone_reads(mail(to)) == expected


def test_a_from_no_parser_can_split_still_names_the_sender() -> None:
    raw = mail(b"help@example.com", sender=b'<<<>>> @@@ ,,, "')
    facts = parse_mime(raw).facts
    assert facts.from_ is not None
    assert (facts.from_.name, facts.from_.address) == ('<<<>>> @@@ ,,, "', "")
    from_gmail = gmail(raw).from_
    assert from_gmail is not None and (from_gmail.name, from_gmail.address) == (
        '<<<>>> @@@ ,,, "',
        "",
    )
    deep = mail(b"help@example.com", sender=b"(" * 3000 + b"x@example.org")
    for found in (parse_mime(deep).facts.from_, gmail(deep).from_, graph(deep).from_):
        assert found is not None and found.address == "x@example.org"


def test_escaped_quotes_and_comments_do_not_split_an_entry() -> None:
    assert split_addresses('"A \\" , B" <a@x.test>, Bob <b@x.test> (work, home)') == [
        ('A " , B', "a@x.test"),
        ("Bob", "b@x.test"),
    ]
    assert split_addresses(None) == [] and split_addresses("  ") == []


def test_an_unparseable_from_still_becomes_an_inbound_email_without_a_sender() -> None:
    """The design (docs/ticketer.md): a mail without a usable From is recorded, not
    acknowledged — so the fetcher must still be able to build it, from either provider."""
    raw = mail(b"help@example.com", sender=b'<<<>>> @@@ ,,, "')
    for message in (gmail(raw), graph(raw)):
        email = build_inbound(
            message,
            mailbox="help@example.com",
            provider="google",
            folder="inbox",
            fetched_at=datetime(2026, 12, 1, tzinfo=UTC),
            attachments=(),
            raw_mime=None,
        )
        assert email.from_ is None and email.subject == "addresses"
        assert [a.address for a in email.to] == ["help@example.com"]


@pytest.mark.timeout(30)  # a guard against the quadratic scan; the assertion is on the result
def test_a_long_run_without_a_domain_keeps_the_address_after_it() -> None:
    """An entry no parser splits is searched for addresses once per run of characters, not
    once per character (a 256 KB "aaa…@" took minutes)."""
    header = "a" * (ADDRESS_TEXT_LIMIT - 100) + "@ x@example.org"
    assert split_addresses(header) == [("", "x@example.org")]
