"""Charset labels that lie, in whole mails: the bytes win over a label they plainly break, on
every reader alike (the ticketer, the Gmail adapter, the Graph simulator)."""

from __future__ import annotations

import pytest

from libs.common.text.charsets import decode_text
from services.ticketer.domain.mime import parse_mime
from tests.unit.provider_readers import gmail, graph

GERMAN = "Grüße aus Köln, die Rechnung fehlt."


def mail(charset: bytes, body: bytes) -> bytes:
    return (
        b"From: ann@x.test\r\nSubject: label\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset" + charset + b"\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body + b"\r\n"
    )


def _everyone_reads(raw: bytes) -> str:
    ticketer = (parse_mime(raw).facts.text or "").strip()
    assert ticketer == gmail(raw).body.strip() == graph(raw).body.strip()
    return ticketer


@pytest.mark.parametrize("label", [b"=utf-16", b"=UTF-16LE", b'="utf-16be"', b"=utf-32"])
@pytest.mark.parametrize("body", [GERMAN.encode(), b"Plain ASCII text, no surprises.\r\n"])
def test_utf16_or_utf32_labels_on_utf8_bytes_are_utf8_not_cjk(label: bytes, body: bytes) -> None:
    assert _everyone_reads(mail(label, body)) == body.decode().strip()


def test_real_utf16_is_still_utf16() -> None:
    for codec in ("utf-16", "utf-16-le", "utf-32"):
        assert decode_text(GERMAN.encode(codec), codec) == GERMAN
    # CJK in UTF-16 may hold no NUL at all; it is no valid UTF-8 either, so it stays UTF-16.
    assert decode_text("日本語".encode("utf-16-le"), "utf-16le") == "日本語"
    assert (
        decode_text("日本語のテキスト\r\n".encode("utf-16-le"), "utf-16le")
        == "日本語のテキスト\r\n"
    )


@pytest.mark.parametrize("label", [b"=us-ascii", b'="US-ASCII"', b"=ascii", b"=ANSI_X3.4-1968"])
def test_a_7bit_label_on_8bit_bytes_gives_way_to_the_bytes(label: bytes) -> None:
    assert _everyone_reads(mail(label, GERMAN.encode())) == GERMAN
    assert _everyone_reads(mail(label, GERMAN.encode("cp1252"))) == GERMAN
    # A single 8-bit byte is no reason for U+FFFD either.
    assert _everyone_reads(mail(label, "Café".encode("cp1252"))) == "Café"


@pytest.mark.parametrize(
    "label",
    [b'=" UTF-8 "', b"='utf-8'", b"= utf-8", b'="Utf8"', b"=UTF-8;", b'="utf-8"; format=flowed'],
)
def test_labels_with_quotes_blanks_and_odd_case_are_read(label: bytes) -> None:
    assert _everyone_reads(mail(label, GERMAN.encode())) == GERMAN
    cyrillic = "Здравствуйте, счёт не пришёл."
    koi8 = (
        label.replace(b"utf-8", b"koi8-r").replace(b"UTF-8", b"KOI8-R").replace(b"Utf8", b"Koi8-r")
    )
    assert _everyone_reads(mail(koi8, cyrillic.encode("koi8_r"))) == cyrillic
