# ruff: noqa: RUF001 - tables of punctuation that looks like other punctuation
"""How natural a decoded text looks: the judge between candidate charsets of unlabelled bytes.

A wrong charset leaves marks that a right one does not: control and private-use characters,
presentation forms and half-width katakana nobody types, a symbol between two letters
(``zepsu³a``), a capital inside a word (``зДРАВСТВУЙТЕ``), letters no one language has together
(``Jiøí`` is Czech ``Jiří`` read as cp1252), ideographs outside the common sets. ``badness`` adds
these up per non-ASCII character: 0 is text as people write it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

#: The non-ASCII lower-case letters of each language, Western ones first (they break ties).
_WESTERN = {
    "fr": "àâæçéèêëîïôœùûüÿ",
    "de": "äöüß",
    "es": "áéíóúñü",
    "pt": "áâãàçéêíóôõú",
    "it": "àèéìíîòóù",
    "nl": "éèëïóöü",
    "ca": "àçèéíïòóúü",
    "da": "æøåéó",
    "sv": "åäöé",
    "fi": "åäöšž",
    "is": "áðéíóúýþæö",
}
_OTHERS = {
    "pl": "ąćęłńóśźż",
    "cs": "áčďéěíňóřšťúůýž",
    "sk": "áäčďéíĺľňóôŕšťúýž",
    "hr": "čćđšž",
    "hu": "áéíóöőúüű",
    "ro": "ăâîșțşţ",
    "tr": "çğıöşüâî",
    "et": "äõöüšž",
    "lv": "āčēģīķļņšūž",
    "lt": "ąčęėįšųūž",
    "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "uk": "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
    "bg": "абвгдежзийклмнопрстуфхцчшщъьюя",
    "sr": "абвгдђѓежзѕијклљмнњопрстћќуфхцчџш",
    "be": "абвгдеёжзійклмнопрстуўфхцчшыьэюя",
    "el": "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώϊϋΐΰς",
    "he": "".join(chr(c) for c in range(0x05D0, 0x05EB)),
    "ar": "".join(chr(c) for c in range(0x0621, 0x064B)) + "پچژکگی",
    "th": "".join(chr(c) for c in range(0x0E01, 0x0E5C)),
}
#: Scripts whose legacy charsets other bytes most easily pass for: a little more to pay.
_SCRIPT_EXTRA = {"he": 0.05, "ar": 0.05, "th": 0.05}
_LANGUAGES = [(frozenset(v), 0.0) for v in _WESTERN.values()] + [
    (frozenset(v), _SCRIPT_EXTRA.get(k, 0.02)) for k, v in _OTHERS.items()
]
#: Thai characters that are archaic or rare in running text (obsolete letters, digits, signs).
_RARE_THAI = frozenset("\u0e03\u0e05\u0e24\u0e26\u0e2f\u0e45\u0e4d\u0e4f\u0e5a\u0e5b")
_ENOUGH = 3000
_MAX_WORD = 200
_GREEK_ACCENTED = frozenset("άέήίόύώΐΰ")
_LETTERS = re.compile(r"[^\W\d_]+")
_KANA = re.compile(r"[\u3040-\u30ff]")
_WORD = re.compile(r"\S+")
#: Blocks real text hardly uses but wrong decodings produce: IPA, spacing modifiers, Cyrillic
#: supplement, Hangul jamo, box drawing, private use, CJK compatibility, presentation forms,
#: half-width katakana, specials, and everything past the Basic Multilingual Plane.
_RARE = (
    (0x0250, 0x02FF),
    (0x0500, 0x052F),
    (0x1100, 0x11FF),
    (0x2200, 0x25FF),
    (0x3100, 0x318F),
    (0x3400, 0x4DBF),
    (0xE000, 0xFAFF),
    (0xFB00, 0xFEFF),
    (0xFF61, 0xFFFF),
    (0x10000, 0x10FFFF),
)
_JAPANESE = frozenset({"cp932", "shift_jis", "shift_jis_2004", "euc_jp", "euc_jis_2004"})
_KOREAN = frozenset({"cp949", "euc_kr", "johab"})
#: Punctuation and signs of ordinary text; other symbols cost a little.
_COMMON_SIGNS = frozenset("“”‘’‚„«»‹›–—…•·°®™€£¥¡¿′″\u00a0")
#: Signs of ordinary text that never touch a word: a cp1250/iso-8859-2 mix-up makes them.
_SIGNS_APART = frozenset("©§×÷±†¶¤¦¬¯¨¸")
#: Signs that belong inside words: apostrophes, hyphens, the Catalan middle dot.
_IN_WORD = frozenset("’‘ʼ´`‐‑·")
_ALLOWED_FORMAT = frozenset("\u200c\u200d\u00ad")  # ZWNJ, ZWJ, soft hyphen
_ALPHABETIC_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK", "HEBREW", "ARABIC", "THAI"})


def badness(text: str, codec: str) -> float:
    """Penalty per non-ASCII character of ``text`` read as ``codec``; lower is more natural."""
    words = []
    count = 0
    for match in _WORD.finditer(text):
        if match.group(0).isascii():
            continue
        words.append(match.group(0)[:_MAX_WORD])
        count += len(words[-1])
        if count >= _ENOUGH:  # a few thousand characters judge a charset as well as all
            break
    chars = [c for word in words for c in word if ord(c) > 0x7F]
    if not chars:
        return 0.0
    kana = bool(_KANA.search(text))
    total = sum(_word_penalty(word, codec, kana) for word in words)
    total += _language_penalty(chars)
    return total / len(chars)


def _word_penalty(word: str, codec: str, kana: bool) -> float:
    penalty = 0.0
    for prev, char, nxt in zip(" " + word[:-1], word, word[1:] + " ", strict=True):
        if ord(char) > 0x7F:
            penalty += _char_penalty(char, prev, codec, kana) + _place_penalty(prev, char, nxt)
    letters = [c for c in word if c.isalpha() and ord(c) > 0x7F]
    if len(letters) >= 3 and all(c.isupper() for c in letters):
        penalty += 0.3 * len(letters)  # whole words in capitals: rare in real text
    return penalty + _spelling_penalty(word)


def _spelling_penalty(word: str) -> float:
    """Two spelling rules that other scripts read as Cyrillic or Greek break all the time.

    Cyrillic: no word starts with ь or ы (ъ only in a few Bulgarian ones), none ends with ъ
    (Hebrew read as cp1251 makes ת, a common last letter, a ъ). Greek: a lower-case word of
    five letters or more has an accent (monotonic spelling), which Hebrew read as cp1253 never
    has.
    """
    core = _LETTERS.search(word)
    if core is None:
        return 0.0
    letters = core.group(0)
    first, last = letters[0].lower(), letters[-1].lower()
    penalty = (1.0 if first in "ьы" else 0.5 if first == "ъ" else 0.0) + (last == "ъ")
    if len(letters) >= 5 and letters.islower() and all(_script(c) == "GREEK" for c in letters):
        penalty += 0.0 if any(c in _GREEK_ACCENTED for c in letters) else 1.0
    return penalty


def _char_penalty(char: str, prev: str, codec: str, kana: bool) -> float:
    """What the character costs by itself."""
    code = ord(char)
    category = unicodedata.category(char)
    if category == "Cf" and char not in _ALLOWED_FORMAT:
        return 1.0
    if category in ("Cc", "Co", "Cn", "Cs") or any(lo <= code <= hi for lo, hi in _RARE):
        return 1.0
    if 0xAC00 <= code <= 0xD7A3:  # Hangul syllables: the 2,350 of KS X 1001 are the usual ones
        return 0.05 if _two_bytes(char, "euc_kr") else 0.7
    if 0x4E00 <= code <= 0x9FFF:
        return _han_penalty(char, codec, kana)
    if 0x3040 <= code <= 0x30FF:
        return 0.0 if codec in _JAPANESE else 0.5
    if 0x3000 <= code <= 0x303F or 0xFF01 <= code <= 0xFF60:
        return 0.0  # CJK punctuation and full-width forms
    if char in _RARE_THAI or 0x0E50 <= code <= 0x0E59:
        return 0.5
    if category.startswith("M"):
        # A combining mark sits on a letter, and a script's own marks on its own letters.
        script = _script(char)
        foreign = script in _ALPHABETIC_SCRIPTS and script != _script(prev)
        return 0.0 if prev.isalpha() and not foreign else 1.0
    if char.isalpha() or char in _COMMON_SIGNS or char in _IN_WORD:
        return 0.0
    return 0.05 if char in _SIGNS_APART else 0.3


def _han_penalty(char: str, codec: str, kana: bool) -> float:
    # A small base cost (as for Hangul): a few ideographs are what any double-byte reading of
    # short Latin or Cyrillic text produces.
    penalty = 0.05 if _frequent_han(char) else 0.25 if _common_han(char) else 0.5
    if codec in _JAPANESE and not kana:
        penalty += 0.1  # Japanese text without a single kana is less likely
    if codec in _KOREAN:
        penalty += 0.5  # Korean mail is written in Hangul
    return penalty


def _place_penalty(prev: str, char: str, nxt: str) -> float:
    """What the character costs where it stands: wedged, a capital inside a word, a change of
    alphabet inside a word (``tiskבrna``)."""
    if not char.isalpha():
        wedged = prev.isalpha() and nxt.isalpha() and char not in _IN_WORD
        if wedged and not unicodedata.category(char).startswith("M"):
            return 1.0
        touching = any(c.isalpha() or (ord(c) > 0x7F and not c.isspace()) for c in (prev, nxt))
        return 0.5 if char in _SIGNS_APART and touching else 0.0
    if char.isupper() and prev.isalpha() and prev.islower():
        return 1.0
    if prev.isalpha():
        here, before = _script(char), _script(prev)
        if here != before and {here, before} <= _ALPHABETIC_SCRIPTS:
            return 1.0
    return 0.0


def _language_penalty(chars: list[str]) -> float:
    """Letters the best-fitting language does not have, and a little for a less common one."""
    letters = Counter(c.lower() for c in chars if c.isalpha() and _script(c) in _ALPHABETIC_SCRIPTS)
    if not letters:
        return 0.0
    count = sum(letters.values())
    return min(
        sum(n for c, n in letters.items() if c not in alphabet) * 0.6 + extra * count
        for alphabet, extra in _LANGUAGES
    )


@lru_cache(maxsize=4096)
def _script(char: str) -> str:
    return unicodedata.name(char, "").split(" ", 1)[0]


@lru_cache(maxsize=16384)
def _frequent_han(char: str) -> bool:
    """Level 1 of GB 2312 (3,755 hanzi) or of JIS X 0208 (2,965 kanji): the everyday ones."""
    return _lead(char, "gb2312") in range(0xB0, 0xD8) or _lead(char, "euc_jp") in range(0xB0, 0xD0)


@lru_cache(maxsize=16384)
def _common_han(char: str) -> bool:
    return _two_bytes(char, "gb2312") or _two_bytes(char, "euc_jp") or _two_bytes(char, "big5")


def _lead(char: str, codec: str) -> int:
    try:
        encoded = char.encode(codec)
    except UnicodeEncodeError:
        return -1
    return encoded[0] if len(encoded) == 2 else -1


@lru_cache(maxsize=16384)
def _two_bytes(char: str, codec: str) -> bool:
    """In the double-byte set of ``codec`` (the common characters; Python's euc_kr also
    spells rare syllables with eight bytes, and euc_jp rare kanji with three)."""
    try:
        return len(char.encode(codec)) == 2
    except UnicodeEncodeError:
        return False
