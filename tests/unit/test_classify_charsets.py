"""The ticketer's MIME parsing decodes what it reads with libs.common.text (tested on its own
in test_text_charsets): a whole mail without a usable label, raw 8-bit headers in the charset
the mail declares, HTML that names its own charset, hostile nesting."""

from __future__ import annotations

import pytest

from services.ticketer.domain.mime import parse_mime
from tests.unit.provider_readers import gmail, nested
from tests.unit.text_samples import EIGHT_BIT


@pytest.mark.parametrize(("text", "codec"), EIGHT_BIT)
def test_unlabelled_body_and_raw_8bit_subject_of_a_whole_mail(text: str, codec: str) -> None:
    subject = text[:24].encode(codec)
    raw = (
        b"From: a@customer.example\r\nSubject: " + subject + b"\r\n"
        b"Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + text.encode(codec)
        + b"\r\n"
    )
    facts = parse_mime(raw).facts
    assert facts.text is not None and facts.text.strip() == text
    if sum(b > 0x7F for b in subject) >= 8:  # enough for detection on the header alone
        assert facts.subject == text[:24].strip()


def test_raw_8bit_headers_take_the_charset_the_mail_declares_for_its_text() -> None:
    def mail(subject: bytes, charset: str, body: bytes) -> bytes:
        return (
            b"From: =?utf-8?q?x?= <a@customer.example>\r\nSubject: " + subject + b"\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
            b"--b\r\nContent-Type: text/plain; charset="
            + charset.encode()
            + b"\r\n\r\n"
            + body
            + b"\r\n--b--\r\n"
        )

    polish = mail("Dzień dobry".encode("cp1250"), "windows-1250", "Dzień".encode("cp1250"))
    assert parse_mime(polish).facts.subject == "Dzień dobry"
    # raw UTF-8 is UTF-8 whatever the body says (RFC 6532)
    utf8 = mail("Grüße".encode(), "iso-8859-1", "Grüße".encode("latin-1"))
    assert parse_mime(utf8).facts.subject == "Grüße"
    # a hint the bytes do not fit gives way to detection
    russian = "Здравствуйте, принтер".encode("koi8-r")
    assert parse_mime(mail(russian, "us-ascii", b"hello")).facts.subject == (
        "Здравствуйте, принтер"
    )
    sender = b"From: J\xfcrgen <j@customer.example>\r\nContent-Type: text/plain; charset=latin1"
    facts = parse_mime(sender + b"\r\n\r\nx").facts
    assert facts.from_ is not None and facts.from_.name == "Jürgen"


def _alternative(plain: tuple[bytes, bytes], html: tuple[bytes, bytes]) -> bytes:
    """A multipart/alternative mail of (Content-Type parameters, body) for each part."""
    return (
        b"From: a@customer.example\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/alternative; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain" + plain[0] + b"\r\n\r\n" + plain[1] + b"\r\n"
        b"--b\r\nContent-Type: text/html" + html[0] + b"\r\n\r\n" + html[1] + b"\r\n--b--\r\n"
    )


def test_html_without_a_mime_charset_is_read_in_its_meta_charset() -> None:
    # One 8-bit byte is too little for detection (it would read as cp1252 "Dzieñ").
    html = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-2">'
    html += "</head><body><p>Dzień dobry</p></body></html>"
    for ctype in (b"text/html", b"text/html; charset=x-unknown"):
        raw = b"From: a@customer.example\r\nContent-Type: " + ctype + b"\r\n\r\n"
        assert parse_mime(raw + html.encode("iso8859-2")).facts.html == html


def test_a_part_without_a_usable_label_is_read_in_the_charset_of_the_mail() -> None:
    # One 8-bit byte is too little for detection (it would read as cp1252 "Dzieñ"); the
    # charset the mail declares for its text decides.
    raw = _alternative(
        (b"; charset=windows-1250", "Dzień dobry".encode("cp1250")),
        (b"; charset=x-unknown", "<p>Dzień dobry</p>".encode("cp1250")),
    )
    facts = parse_mime(raw).facts
    assert facts.text == "Dzień dobry"
    assert facts.html == "<p>Dzień dobry</p>"


@pytest.mark.parametrize("label", ["base64", "rot13", "unicode_escape", "utf-7", "idna"])
def test_python_codecs_that_are_no_charset_are_no_label(label: str) -> None:
    raw = (
        b"From: a@customer.example\r\nSubject: =?" + label.encode() + b"?Q?+2AA-?=\r\n"
        b"Content-Type: text/plain; charset=" + label.encode() + b"\r\n\r\n"
        b"+2AA- \\ud800 Gr\xfc\xdfe"
    )
    facts = parse_mime(raw).facts
    assert facts.text is not None and facts.text.endswith("\\ud800 Grüße")
    facts.text.encode("utf-8")  # no lone surrogate reaches the database
    facts.subject.encode("utf-8")


def test_hostile_nesting_is_read_as_far_as_the_headers() -> None:
    levels = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
        for i in range(1200)
    )
    raw = b"From: a@customer.example\r\nSubject: Gr\xfc\xdfe\r\n" + levels + b"\r\nhi"
    parsed = parse_mime(raw)
    assert parsed.facts.subject == "Grüße"
    assert parsed.facts.from_ is not None and parsed.facts.from_.address == "a@customer.example"
    assert parsed.defects


def test_thousands_of_nested_multiparts_keep_the_text_found_above_the_cut() -> None:
    raw = nested(5000, b"buried text")
    parsed = parse_mime(raw)
    assert parsed.facts.subject == "deep"
    assert parsed.facts.text is not None
    assert parsed.facts.text.strip() == "the text before the nesting" == gmail(raw).body.strip()
    assert parsed.defects and "nesting" in parsed.defects[0]
