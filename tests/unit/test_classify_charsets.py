# ruff: noqa: RUF001 - real text in many scripts
"""Text without a usable charset label is decoded by detection, in many scripts, and no byte
sequence or label makes decoding raise or leave a lone surrogate."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ticketer.domain.decode import decode_bytes, decode_header_value
from services.ticketer.domain.detect import detect_text
from services.ticketer.domain.mime import parse_mime

# (text, encodings an unlabelled mail may carry it in): the kind of sentence a request holds.
SENTENCES = {
    "de": (
        "Guten Tag, unser Drucker im dritten Stock druckt seit gestern nicht mehr. "
        "Vielen Dank, Jürgen Größer",
        ("latin-1", "cp1252"),
    ),
    "fr": (
        "Bonjour, l'imprimante du deuxième étage ne fonctionne plus. Merci, Françoise",
        ("latin-1", "cp1252", "iso8859-15"),
    ),
    "es": ("¿Podrían enviar un técnico? Gracias, José Muñoz", ("cp1252",)),
    "pt": ("A impressora não funciona. Obrigado, João Conceição", ("cp1252",)),
    "en": ("The café’s printer – “HP 4000” – is broken again", ("cp1252",)),
    "pl": (
        "Dzień dobry, drukarka na drugim piętrze nie działa. Dziękuję, Łukasz Żółkiewski",
        ("cp1250", "iso8859-2"),
    ),
    "cs": ("Dobrý den, tiskárna nefunguje. Děkuji, Jiří Šťastný", ("cp1250", "iso8859-2")),
    "hu": ("A nyomtató nem működik. Köszönöm, Győző", ("cp1250", "iso8859-2")),
    "tr": ("Yazıcı dünden beri çalışmıyor. Teşekkürler, Ağustos", ("cp1254",)),
    "ru": (
        "Здравствуйте, принтер на втором этаже не работает. Спасибо, Пётр",
        ("koi8-r", "cp1251", "iso8859-5", "cp866"),
    ),
    "uk": ("Добрий день, принтер не працює. Дякую, Євгенія Їжак", ("koi8-u", "cp1251")),
    "el": ("Καλημέρα, ο εκτυπωτής δεν λειτουργεί. Ευχαριστώ, Γιώργος", ("cp1253", "iso8859-7")),
    "he": ("שלום, המדפסת בקומה השנייה לא עובדת מאתמול. תודה, דני", ("cp1255", "iso8859-8")),
    "ar": ("مرحبا، الطابعة في الطابق الثاني لا تعمل منذ الأمس. شكرا", ("cp1256",)),
    "th": ("สวัสดีครับ เครื่องพิมพ์ที่ชั้นสองเสีย ขอบคุณครับ", ("cp874",)),
    "zh": ("您好，二楼的打印机从昨天开始就不能用了。谢谢，王伟", ("gb18030", "gb2312", "gbk")),
    "zh-tw": ("您好，二樓的印表機從昨天開始就不能用了。謝謝", ("big5",)),
    "ja": (
        "お世話になっております。二階のプリンターが昨日から動きません。",
        ("shift_jis", "cp932", "euc-jp", "iso2022_jp"),
    ),
    "ko": ("안녕하세요, 2층 프린터가 어제부터 작동하지 않습니다. 감사합니다", ("cp949", "euc-kr")),
}
CASES = [
    pytest.param(text, codec, id=f"{lang}-{codec}")
    for lang, (text, codecs_) in SENTENCES.items()
    for codec in codecs_
]


@pytest.mark.parametrize(("text", "codec"), CASES)
def test_unlabelled_text_is_decoded_by_detection(text: str, codec: str) -> None:
    data = text.encode(codec)
    assert decode_bytes(data) == text
    assert decode_bytes(data, "x-unknown") == text
    assert decode_bytes(data, "unknown-8bit") == text


# ISO-2022 is 7-bit: it never comes as a raw 8-bit header.
EIGHT_BIT = [case for case in CASES if not str(case.values[1]).startswith("iso2022")]


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


def test_short_words_without_a_label_fall_back_to_the_western_default() -> None:
    assert decode_bytes("Grüße".encode("latin-1")) == "Grüße"
    assert decode_bytes("Müller".encode("cp1252"), "x-unknown") == "Müller"
    assert decode_header_value("=?x-unknown?Q?Gr=FC=DFe?=") == "Grüße"


def test_a_wrong_label_gives_way_to_detection_and_a_right_one_is_kept() -> None:
    latin = "Grüße aus München, schöne Tage".encode("latin-1")
    assert decode_bytes(latin, "utf-8") == "Grüße aus München, schöne Tage"
    assert decode_bytes(latin, "us-ascii") == "Grüße aus München, schöne Tage"
    russian = "Здравствуйте, принтер не работает".encode("koi8-r")
    assert decode_bytes(russian, "koi8-r") == "Здравствуйте, принтер не работает"
    # the label decides when the bytes fit it, even where detection would say otherwise
    misread = "Привет, мир".encode("koi8-r")
    assert decode_bytes(misread, "cp1251") == misread.decode("cp1251")


def test_iso_8859_1_is_read_as_windows_1252() -> None:
    assert decode_bytes(b"\x93quoted\x94 \x96 100 \x80", "iso-8859-1") == "“quoted” – 100 €"
    assert decode_bytes(b"\x81", "iso-8859-1") == "\x81"  # no cp1252 character: Latin-1


def test_utf8_with_a_stray_latin1_byte_keeps_its_utf8() -> None:
    data = "Grüße – schön".encode() + b" caf\xe9"
    assert decode_bytes(data) == "Grüße – schön café"
    assert decode_bytes(data, "utf-8") == "Grüße – schön café"


def test_byte_order_marks_and_iso_2022_escapes_name_their_encoding() -> None:
    assert detect_text("Grüße".encode("utf-16")) == "Grüße"
    assert detect_text("\ufeffGrüße".encode()) == "Grüße"
    assert detect_text("お問い合わせ".encode("iso2022_jp")) == "お問い合わせ"
    assert detect_text("안녕하세요".encode("iso2022_kr")) == "안녕하세요"


def test_a_few_bad_bytes_in_a_labelled_multibyte_text_become_replacement_characters() -> None:
    text = "お問い合わせありがとうございます。プリンターが壊れました。" * 5
    data = text.encode("shift_jis") + b"\xff"
    assert decode_bytes(data, "shift_jis") == text + "\ufffd"


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=400),
    label=st.sampled_from([None, "", "x-unknown", "utf-8", "us-ascii", "iso-8859-1", "bogus"]),
)
def test_any_bytes_under_any_label_decode_to_encodable_text(data: bytes, label: str) -> None:
    text = decode_bytes(data, label)
    text.encode("utf-8")  # no lone surrogate: it would fail here (and in JSON, and SQL)
    if data.isascii():
        assert text == data.decode("ascii") or "\x1b" in data.decode("ascii")


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
