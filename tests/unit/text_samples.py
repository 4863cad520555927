# ruff: noqa: RUF001 - real text in many scripts
"""Sentences of requests in many scripts, and the charsets unlabelled mail carries them in:
shared by the tests of decoding (libs.common.text) and of the ticketer's MIME parsing."""

from __future__ import annotations

import pytest

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


# ISO-2022 is 7-bit: it never comes as a raw 8-bit header.
EIGHT_BIT = [case for case in CASES if not str(case.values[1]).startswith("iso2022")]
