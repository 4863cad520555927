# ruff: noqa: RUF001 - mail in many scripts is made of such letters
"""Generated worst cases for the real-world corpus test: the odd mail a helpdesk gets
(docs/odd-mail.md), and the charsets the shipped corpus lacks (Asian and Cyrillic, labelled
and not), out-of-office
answers known only by their subject, and (``oddities.py``) the other shapes real helpdesks
receive.

The bytes are written out by hand, not by :mod:`email`, which would repair what these cases
must keep broken. :func:`worst_cases` returns them as :class:`~tests.e2e.samples.Sample`.
"""

from __future__ import annotations

from tests.e2e.mailbytes import CRLF, build, encoded_word, sample, std, text_mail
from tests.e2e.oddities import oddities
from tests.e2e.samples import Sample


def issue_cases() -> list[Sample]:
    """The odd mail cases of docs/odd-mail.md's list."""
    long_id = "<" + "x" * 1490 + "@long.example>"
    first = text_mail(
        "reused-id", "Invoice 4711 is wrong", b"The total on invoice 4711 is 20 EUR too high.\r\n"
    )
    second = text_mail(
        "reused-id",
        "Delivery note missing",
        b"The delivery note for order 99 never arrived.\r\n",
        sender="Mallory Other <mallory@other.example>",
    )
    return [
        sample(
            "long-message-id",
            build(
                [*std("unused", "Printer on floor 3 is jammed")[:4], ("Message-ID", long_id)],
                b"The printer on floor 3 is jammed again.\r\n",
            ),
            "request",
            "Printer on floor 3 is jammed",
            "printer on floor 3 is jammed",
            "a 1,500-character Message-ID",
        ),
        sample(
            "nul-in-body",
            text_mail("nul-body", "NUL in the body", b"Hello\x00World, the rest must survive.\r\n"),
            "request",
            body="the rest must survive",
        ),
        sample("nul-in-subject", text_mail("nul-subject", b"Invoice\x00 42", b"See subject.\r\n")),
        sample(
            "null-sender",
            build([("Return-Path", "<>"), *std("null-sender", "Your order")], b"Hello.\r\n"),
            note="Return-Path: <> and nothing else automatic: never acknowledged",
        ),
        sample(
            "latin1-unlabelled",
            text_mail(
                "latin1",
                "Drucker",
                "Grüße aus München, der Drucker geht nicht.\r\n".encode("latin-1"),
                "text/plain",
            ),
            "request",
            body="Grüße aus München",
        ),
        sample("reused-message-id-first", first, "request", body="The total on invoice 4711"),
        sample(
            "reused-message-id-second",
            second,
            "request",
            body="The delivery note for order 99",
            note="same Message-ID as the first, another sender and body: must be kept",
        ),
        sample(
            "unknown-charset",
            text_mail(
                "x-unknown",
                "Pruefung",
                "Prüfung fehlgeschlagen, bitte prüfen Sie das Konto.\r\n".encode("latin-1"),
                "text/plain; charset=x-unknown",
            ),
            "request",
            body="Prüfung fehlgeschlagen",
        ),
        sample("deep-nesting", deep_nesting(1200), note="1,200 nested multiparts"),
        sample(
            "garbage-from",
            build(std("garbage-from", "Hello", sender='<<<>>> @@@ ,,, "'), b"Who am I?\r\n"),
        ),
        sample(
            "reply-to-elsewhere",
            text_mail(
                "reply-to",
                "Password reset",
                b"Please reset my password.\r\n",
                more=[("Reply-To", "someone.else@elsewhere.example")],
            ),
            "request",
            body="Please reset my password",
        ),
        sample(
            "lookalike-sender",
            text_mail(
                "lookalike",
                "Urgent",
                b"Please confirm.\r\n",
                sender="Support <support@contoso.com.evil.org>",
            ),
            note="a lookalike of the mailbox's own domain: never acknowledged",
        ),
        sample(
            "raw-utf8-headers",
            text_mail(
                "raw-utf8",
                "Drucker in Zürich kaputt – bitte helfen".encode(),
                b"Siehe Betreff.\r\n",
                sender="Jürgen Müller <juergen@customer.example>".encode(),
            ),
            "request",
            "Drucker in Zürich kaputt – bitte helfen",
        ),
        sample(
            "raw-latin1-headers",
            text_mail(
                "raw-latin1",
                "Rückfrage zur Rechnung".encode("latin-1"),
                b"Siehe Betreff.\r\n",
                sender="Jürgen Müller <juergen2@customer.example>".encode("latin-1"),
            ),
            "request",
        ),
        sample(
            "surrogate-bytes-in-subject",
            text_mail("surrogate", b"broken \xed\xa0\x80 subject", b"A lone surrogate.\r\n"),
        ),
        sample("empty-message", b"", note="zero bytes"),
        sample(
            "only-headers",
            b"From: pat@customer.example\r\nSubject: only headers\r\n",
            note="no blank line, no body",
        ),
        sample(
            "long-header-line",
            text_mail(
                "long-header",
                "Long " + "subject " * 150,
                b"A header line of 1,200 characters, never folded.\r\n",
                more=[("X-Long", "y" * 5000)],
            ),
        ),
        sample(
            "control-characters-in-subject",
            text_mail(
                "controls", "Tab\x0bvertical\x0cfeed\u2028line separator".encode(), b"Hi.\r\n"
            ),
        ),
    ]


def deep_nesting(depth: int) -> bytes:
    opening = b"".join(
        b'--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n' % (n, n + 1)
        for n in range(depth - 1)
    )
    inner = b"--b%d\r\nContent-Type: text/plain\r\n\r\ndeep inside\r\n--b%d--\r\n" % (
        depth - 1,
        depth - 1,
    )
    closing = b"".join(b"--b%d--\r\n" % n for n in reversed(range(depth - 1)))
    headers = std("deep", "Deep", more=[("Content-Type", 'multipart/mixed; boundary="b0"')])
    return build(headers, opening + inner + closing)


def out_of_office() -> list[Sample]:
    """Out-of-office answers with no auto-reply header, only the subject tells."""
    subjects = (
        "Out of Office: Re: [#2] Printer on floor 3 is jammed",
        "Automatic reply: Your request",
        "Abwesenheitsnotiz: Ihre Anfrage",
        encoded_word("Réponse automatique : Votre demande", "utf-8"),
        encoded_word("Respuesta automática: Su solicitud", "utf-8"),
        "Automatisch antwoord: Uw aanvraag",
        "Risposta automatica: La sua richiesta",
        encoded_word("Resposta automática: O seu pedido", "utf-8"),
    )
    return [
        sample(
            f"out-of-office-{n}",
            text_mail(f"oof-{n}", subject, b"I am out of the office until Monday.\r\n"),
            "automatic",
            note="out-of-office by its subject only",
        )
        for n, subject in enumerate(subjects)
    ]


def charsets() -> list[Sample]:
    """Labelled Asian and Cyrillic mail (decoding is certain) and unlabelled mail (detection)."""
    texts = {
        "shift_jis": (
            "お問い合わせ：プリンター",
            "プリンターが動きません。至急対応をお願いします。",
        ),
        "iso-2022-jp": ("会議室の予約", "会議室の予約ができません。確認してください。"),
        "ks_c_5601-1987": ("프린터 문의", "프린터가 작동하지 않습니다. 도와주세요."),
        "big5": ("印表機問題", "印表機無法列印，請協助處理。"),
        "gb2312": ("打印机问题", "打印机无法打印，请帮忙处理。"),
        "koi8-r": ("Принтер", "Принтер не печатает, помогите пожалуйста."),
        "windows-1251": ("Сервер", "Сервер недоступен с утра."),
    }
    out = []
    for charset, (subject, body) in texts.items():
        cte = "7bit" if charset == "iso-2022-jp" else "8bit"
        raw = text_mail(
            f"cs-{charset}",
            encoded_word(subject, charset),
            body.encode(charset) + CRLF,
            f"text/plain; charset={charset}",
            cte,
        )
        out.append(sample(f"charset-{charset}", raw, "request", subject, body))
    japanese = "プリンターが動きません。至急対応をお願いします。印刷ができない状態です。"
    out.append(
        sample(
            "unlabelled-shift_jis",
            text_mail("sjis-nolabel", "Printer", (japanese * 3).encode("shift_jis"), "text/plain"),
            "request",
            body="プリンター",
        )
    )
    out.append(
        sample(
            "unlabelled-utf8",
            text_mail(
                "utf8-nolabel",
                "Kaffee",
                "Die Kaffeemaschine ist kaputt – schade.\r\n".encode(),
                None,
                None,
            ),
            "request",
            body="Kaffeemaschine ist kaputt – schade",
        )
    )
    return out


def worst_cases() -> list[Sample]:
    return [*issue_cases(), *out_of_office(), *charsets(), *oddities()]
