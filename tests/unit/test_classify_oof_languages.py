"""Out-of-office subjects in the languages mail programs write them in, as they arrive: in
RFC 2047 encoded words of the usual charsets, in any case; and a person's subject that only
mentions automatic replies stays a request."""

from __future__ import annotations

from email.header import Header

import pytest

from services.ticketer.domain.classify import classify
from services.ticketer.domain.mime import parse_mime
from services.ticketer.domain.oof import fold
from services.ticketer.domain.verdict import Classification

MAILBOX = "helpdesk@contoso.example"
OWN_DOMAIN = "mailpipe.contoso.example"

#: (language, the prefix Outlook or the usual responder writes, a charset mail programs of that
#: language encode it in)
PREFIXES = [
    ("German", "Abwesenheitsnotiz", "iso-8859-1"),
    ("German", "Automatische Antwort", "iso-8859-1"),
    ("French", "Réponse automatique", "iso-8859-1"),
    ("Spanish", "Respuesta automática", "iso-8859-1"),
    ("Italian", "Risposta automatica", "iso-8859-1"),
    ("Portuguese", "Resposta automática", "iso-8859-1"),
    ("Catalan", "Resposta automàtica", "iso-8859-1"),
    ("Dutch", "Automatisch antwoord", "iso-8859-1"),
    ("Polish", "Automatyczna odpowiedź", "iso-8859-2"),
    ("Swedish", "Automatiskt svar", "iso-8859-1"),
    ("Danish", "Automatisk svar", "iso-8859-1"),
    ("Norwegian", "Automatisk svar", "iso-8859-1"),
    ("Norwegian", "Autosvar", "iso-8859-1"),
    ("Icelandic", "Sjálfvirkt svar", "iso-8859-1"),
    ("Finnish", "Automaattinen vastaus", "iso-8859-1"),
    ("Estonian", "Automaatne vastus", "iso-8859-4"),
    ("Latvian", "Automātiskā atbilde", "iso-8859-4"),
    ("Lithuanian", "Automatinis atsakymas", "iso-8859-4"),
    ("Czech", "Automatická odpověď", "iso-8859-2"),
    ("Slovak", "Automatická odpoveď", "iso-8859-2"),
    ("Slovenian", "Samodejni odgovor", "iso-8859-2"),
    ("Hungarian", "Automatikus válasz", "iso-8859-2"),
    ("Turkish", "Otomatik yan\u0131t", "iso-8859-9"),
    ("Turkish", "Otomatik cevap", "iso-8859-9"),
    ("Russian", "Автоматический ответ", "koi8-r"),
    ("Russian", "Автоответ", "windows-1251"),
    ("Ukrainian", "Автоматична відповідь", "koi8-u"),
    ("Bulgarian", "Автоматичен отговор", "windows-1251"),
    ("Greek", "Αυτόματη απάντηση", "iso-8859-7"),
    ("Hebrew", "תשובה אוטומטית", "iso-8859-8"),
    ("Arabic", "رد تلقائي", "windows-1256"),
    ("Vietnamese", "Trả lời tự động", "utf-8"),
    ("Indonesian", "Balasan otomatis", "utf-8"),
    ("Thai", "ตอบกลับอัตโนมัติ", "tis-620"),
    ("Japanese", "自動応答", "iso-2022-jp"),
    ("Japanese", "自動返信", "shift_jis"),
    ("Chinese (simplified)", "自动回复", "gb2312"),
    ("Chinese (traditional)", "自動回覆", "big5"),
    ("Korean", "자동 응답", "euc-kr"),
    ("Korean", "자동 회신", "euc-kr"),
]
IDS = [f"{language}:{prefix}" for language, prefix, _ in PREFIXES]


def raw_mail(subject_line: str) -> bytes:
    head = [
        "From: Jan Kowalski <jan@partner.example>",
        f"To: Helpdesk <{MAILBOX}>",
        subject_line,
        "Date: Mon, 2 Nov 2026 12:00:00 +0100",
        "Message-ID: <oof-1@partner.example>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    return ("\r\n".join(head) + "\r\n\r\nBack on Monday.\r\n").encode("ascii")


def encoded(text: str, charset: str) -> str:
    """A Subject line of ``text`` as RFC 2047 encoded words, folded as mail programs fold
    long subjects."""
    return "Subject: " + Header(text, charset, maxlinelen=60).encode()


def q_encoded(text: str) -> str:
    """A Subject line of ``text`` as one UTF-8 "Q" encoded word."""
    data = text.encode("utf-8")
    word = "".join(chr(b) if chr(b).isalnum() and b < 128 else f"={b:02X}" for b in data)
    return f"Subject: =?utf-8?q?{word}?="


def verdict(raw: bytes) -> Classification:
    return classify(parse_mime(raw).facts, mailbox=MAILBOX, own_message_id_domain=OWN_DOMAIN)


@pytest.mark.parametrize(("language", "prefix", "charset"), PREFIXES, ids=IDS)
def test_a_notice_prefix_in_encoded_words_of_its_charset_is_an_auto_reply(
    language: str, prefix: str, charset: str
) -> None:
    subject = f"{prefix}: RE: Invoice 4711"
    result = verdict(raw_mail(encoded(subject, charset)))
    assert (result.kind, result.reason) == ("auto_reply", "oof_subject:client_prefix"), language


@pytest.mark.parametrize(("language", "prefix", "charset"), PREFIXES, ids=IDS)
def test_a_notice_prefix_in_utf8_words_in_upper_and_lower_case_is_an_auto_reply(
    language: str, prefix: str, charset: str
) -> None:
    for variant in (prefix.upper(), prefix.lower(), prefix.title()):
        # after a full-width colon, as the CJK versions of Outlook write it
        result = verdict(raw_mail(encoded(f"{variant}\uff1aRE: Invoice 4711", "utf-8")))
        assert result.kind == "auto_reply", (language, variant)


def test_a_notice_prefix_split_over_several_encoded_words_is_an_auto_reply() -> None:
    # Outlook cuts long subjects into words of a few characters each, Q and B mixed.
    line = (
        "Subject: =?utf-8?Q?R=C3=A9ponse_?=\r\n =?UTF-8?B?YXV0b21hdGlxdWUg?=\r\n"
        " =?iso-8859-1?q?=3A_Facture_4711?="
    )
    assert verdict(raw_mail(line)).reason == "oof_subject:client_prefix"


def test_turkish_dotted_and_dotless_i_fold_alike() -> None:
    assert fold("OTOMATİK YANIT") == fold("Otomatik yan\u0131t") == fold("otomatik yanit")
    result = verdict(raw_mail(encoded("OTOMATİK YANIT: Fatura 4711", "utf-8")))
    assert result.kind == "auto_reply"


PERSON_SUBJECTS = [
    "Re: Automatic reply settings broken",
    "Automatic reply settings broken",
    "AW: Automatische Antwort funktioniert nicht",
    "Abwesenheitsnotiz einrichten \u2013 wie?",
    "Réponse automatique ne fonctionne pas",
    "RE: Respuesta automática no se envía",
    "R: Risposta automatica non funziona",
    "Automatyczna odpowiedź nie działa",
    "SV: Automatiskt svar fungerar inte",
    "Автоматический ответ не работает",
    "Re: 自動応答の設定について",
    "自动回复设置问题",
    "자동 응답 설정 문의",
    "Otomatik yan\u0131t \u00e7al\u0131\u015fm\u0131yor",
]


@pytest.mark.parametrize("subject", PERSON_SUBJECTS)
def test_a_person_writing_about_automatic_replies_is_a_request(subject: str) -> None:
    for line in (encoded(subject, "utf-8"), q_encoded(subject)):
        result = verdict(raw_mail(line))
        assert (result.kind, result.reason) == ("request", "request"), subject
        assert result.may_acknowledge
