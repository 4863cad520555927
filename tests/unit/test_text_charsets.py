# ruff: noqa: RUF001 - real text in many scripts
"""Bytes → text, shared by the simulator and the ticketer (libs.common.text): a label that
fits is honoured, valid UTF-8 beats a single-byte label, text without a usable label is
decoded by detection in many scripts, and no byte sequence or label makes decoding raise or
leave a lone surrogate."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.common.text.charsets import decode_html, decode_text, decode_words, repair, scrub
from libs.common.text.detect import detect_text
from libs.common.text.labels import codec_name, html_charset
from tests.unit.text_samples import CASES

GRUSSE = "Grüße aus München, schöne Tage"


@pytest.mark.parametrize(("text", "codec"), CASES)
def test_unlabelled_text_is_decoded_by_detection(text: str, codec: str) -> None:
    data = text.encode(codec)
    assert decode_text(data) == text
    assert decode_text(data, "x-unknown") == text
    assert decode_text(data, "unknown-8bit") == text


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("ks_c_5601-1987", "cp949"),
        ("KS_C_5601-1987", "cp949"),
        ('"gb2312"', "gb18030"),
        ("utf-8*de", "utf-8"),  # RFC 2231 language suffix
        ("x-sjis", "shift_jis"),
        ("windows-874", "cp874"),
        ("iso-8859-8-i", "iso8859-8"),
        ("latin1", "iso8859-1"),
        ("x-unknown", None),
        ("unknown-8bit", None),
        ("no-such-charset", None),
        ("", None),
        (None, None),
        (42, None),
        # Python codecs that are no mail charset: escapes, bytes-to-bytes, domain names
        ("unicode_escape", None),
        ("raw-unicode-escape", None),
        ("base64", None),
        ("rot13", None),
        ("zlib", None),
        ("idna", None),
        ("punycode", None),
        ("undefined", None),
    ],
)
def test_labels_map_to_mail_codecs_or_to_none(label: object, codec: str | None) -> None:
    assert codec_name(label) == codec


@pytest.mark.parametrize(
    ("data", "label", "text"),
    [
        ("Grüße".encode("latin-1"), None, "Grüße"),  # short Western text: windows-1252
        ("Größe – 12 €".encode("cp1252"), "x-unknown", "Größe – 12 €"),
        ("Grüße".encode(), "iso-8859-1", "Grüße"),  # valid UTF-8 beats a single-byte label
        ("Grüße".encode(), "us-ascii", "Grüße"),
        ("Привет, как дела?".encode(), "koi8-r", "Привет, как дела?"),
        ("Привет, как дела?".encode("koi8_r"), "koi8-r", "Привет, как дела?"),
        ("안녕하세요".encode("cp949"), "ks_c_5601-1987", "안녕하세요"),
        ("こんにちは".encode("shift_jis"), "x-sjis", "こんにちは"),
        (b"\\ud800 stays text", "unicode_escape", "\\ud800 stays text"),  # no codec of escapes
        (b"Z3Jl", "base64", "Z3Jl"),  # nor one of bytes
        (b"+2AA-", "utf-7", "\ufffd"),  # a lone surrogate decoded is replaced
        (b"\x00\xd8", "utf-16-le", "\ufffd"),
    ],
)
def test_a_working_label_is_honoured_else_utf8_else_detection(
    data: bytes, label: str | None, text: str
) -> None:
    assert decode_text(data, label) == text


def test_short_words_without_a_label_fall_back_to_the_western_default() -> None:
    assert decode_text("Grüße".encode("latin-1")) == "Grüße"
    assert decode_text("Müller".encode("cp1252"), "x-unknown") == "Müller"
    assert decode_words("=?x-unknown?Q?Gr=FC=DFe?=") == "Grüße"


def test_a_wrong_label_gives_way_to_detection_and_a_right_one_is_kept() -> None:
    latin = GRUSSE.encode("latin-1")
    assert decode_text(latin, "utf-8") == GRUSSE
    assert decode_text(latin, "us-ascii") == GRUSSE
    russian = "Здравствуйте, принтер не работает".encode("koi8-r")
    assert decode_text(russian, "koi8-r") == "Здравствуйте, принтер не работает"
    # the label decides when the bytes fit it, even where detection would say otherwise
    misread = "Привет, мир".encode("koi8-r")
    assert decode_text(misread, "cp1251") == misread.decode("cp1251")


def test_iso_8859_1_is_read_as_windows_1252() -> None:
    assert decode_text(b"\x93quoted\x94 \x96 100 \x80", "iso-8859-1") == "“quoted” – 100 €"
    assert decode_text(b"\x81", "iso-8859-1") == "\x81"  # no cp1252 character: Latin-1


def test_the_western_fallback_reads_every_byte() -> None:
    # windows-1252 leaves five bytes undefined; they are Latin-1's, not U+FFFD
    assert decode_text(b"caf\xe9 \x81\x9d") == "café \x81\x9d"
    assert decode_text("Grüße".encode() + b" \x8d\x80") == "Grüße \x8d€"
    assert "\ufffd" not in decode_text(bytes(range(256)) * 4)


def test_utf8_with_a_stray_latin1_byte_keeps_its_utf8() -> None:
    data = "Grüße – schön".encode() + b" caf\xe9"
    assert decode_text(data) == "Grüße – schön café"
    assert decode_text(data, "utf-8") == "Grüße – schön café"


def test_byte_order_marks_and_iso_2022_escapes_name_their_encoding() -> None:
    assert detect_text("Grüße".encode("utf-16")) == "Grüße"
    assert detect_text("Grüße".encode("utf-32")) == "Grüße"
    assert detect_text("\ufeffGrüße".encode()) == "Grüße"
    assert detect_text("お問い合わせ".encode("iso2022_jp")) == "お問い合わせ"
    assert detect_text("안녕하세요".encode("iso2022_kr")) == "안녕하세요"


def test_a_few_bad_bytes_in_a_labelled_multibyte_text_become_replacement_characters() -> None:
    text = "お問い合わせありがとうございます。プリンターが壊れました。" * 5
    data = text.encode("shift_jis") + b"\xff"
    assert decode_text(data, "shift_jis") == text + "\ufffd"


def test_the_hint_is_tried_after_utf8_and_before_guessing() -> None:
    polish = "Dzień".encode("cp1250")  # one 8-bit byte: alone, it would read as cp1252
    assert decode_text(polish) == "Dzieñ"
    assert decode_text(polish, None, "windows-1250") == "Dzień"
    assert decode_text(polish, "x-unknown", "windows-1250") == "Dzień"
    assert decode_text("Dzień".encode(), None, "windows-1250") == "Dzień"  # UTF-8 first
    # a hint the bytes do not fit, or that names no codec, gives way to detection
    russian = "Здравствуйте, принтер".encode("koi8-r")
    assert decode_text(russian, None, "us-ascii") == "Здравствуйте, принтер"
    assert decode_text(russian, None, "bogus") == "Здравствуйте, принтер"


def test_header_octets_kept_as_surrogates_are_decoded() -> None:
    assert repair("plain") == "plain"
    parsed = "Gr\udcc3\udcbc\udcc3\udc9fe"  # UTF-8 octets as the email package keeps them
    assert repair(parsed) == "Grüße"
    assert repair(parsed, "iso-8859-1") == "Grüße"  # raw UTF-8 is UTF-8 (RFC 6532)
    assert repair("Gr\udcfc\udcdfe") == "Grüße"  # Latin-1 octets
    assert repair("Dzie\udcf1", "windows-1250") == "Dzień"  # the charset the mail declares
    assert repair("\ud800 not from a byte") == "\ufffd not from a byte"


def test_encoded_words_with_any_label() -> None:
    grusse = base64.b64encode("Grüße".encode()).decode()
    assert decode_words(f"=?bogus?B?{grusse}?= =?utf-8?Q?_aus_M=C3=BCnchen?=") == (
        "Grüße aus München"
    )
    assert decode_words("=?utf-8?B?!!!?= ok") == "=?utf-8?B?!!!?= ok"  # kept as written
    assert decode_words("=?UTF-8*de?q?M=C3=BCller?=") == "Müller"
    assert decode_words("=?x-unknown?Q?Dzie=F1?=", "windows-1250") == "Dzień"
    assert decode_words("=?utf-7?Q?+2AA-?=") == "\ufffd"
    assert decode_words("no words") == "no words"


def test_html_names_its_own_charset_when_the_mime_header_does_not() -> None:
    html = '<html><head><meta charset="windows-1251"></head><body>Привет</body></html>'
    data = html.encode("cp1251")
    assert html_charset(data) == "windows-1251"
    assert decode_html(data) == html
    assert decode_html(data, "x-unknown") == html
    equiv = b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">'
    assert html_charset(equiv) == "koi8-r"
    assert html_charset(b'<meta charset="base64">') is None
    # the MIME label, when it names a codec, is the one the part was written in
    assert decode_html(GRUSSE.encode("cp1252"), "windows-1252") == GRUSSE
    assert decode_html(b'<meta charset="koi8-r">' + "Grüße".encode(), "utf-8").endswith("Grüße")


def test_scrub_replaces_lone_surrogates_in_nested_values() -> None:
    assert scrub({"a": ["\ud800x", 1], "\udcff": None}) == {"a": ["\ufffdx", 1], "\ufffd": None}
    assert scrub("clean") == "clean"


LABELS = [None, "", "x-unknown", "utf-8", "us-ascii", "iso-8859-1", "bogus", "shift_jis"]
LABELS += ["utf-7", "utf-16", "unicode_escape", "base64", "idna", "cp949", "gb2312"]


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=400),
    label=st.sampled_from(LABELS),
    hint=st.sampled_from([None, "windows-1250", "utf-16", "bogus"]),
)
def test_any_bytes_under_any_label_decode_to_encodable_text(
    data: bytes, label: str | None, hint: str | None
) -> None:
    text = decode_text(data, label, hint)
    text.encode("utf-8")  # no lone surrogate: it would fail here (and in JSON, and SQL)
    decode_html(data, label, hint).encode("utf-8")
    repair(data.decode("utf-8", "surrogateescape"), hint).encode("utf-8")
    if data.isascii() and label in (None, "", "x-unknown", "utf-8", "us-ascii"):
        assert text == data.decode("ascii") or "\x1b" in data.decode("ascii")
