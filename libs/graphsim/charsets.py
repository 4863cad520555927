"""Bytes → text for mail of any origin, the way Exchange converts what it receives.

A charset label that names a text codec and decodes the bytes is honoured; otherwise the
bytes are UTF-8 when they are valid UTF-8, otherwise the charset is detected
(charset-normalizer, among the charsets mail is written in), and when nothing fits,
windows-1252 or Latin-1, which decode any byte. Nothing here raises on content.
"""

from __future__ import annotations

import codecs
import functools
import re
from collections.abc import Iterator
from typing import Any

from charset_normalizer import from_bytes

# Labels seen in mail that name no codec, or name one wrongly.
_ALIASES = {
    "unknown-8bit": "",
    "x-unknown": "",
    "unknown": "",
    "default": "",
    "x-user-defined": "",
    "none": "",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "x-sjis": "shift_jis",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "gb2312": "gb18030",  # gb18030 is a superset; senders often label GBK text gb2312
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cn-big5": "big5",
    "x-mac-roman": "mac_roman",
    "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8",
}
# Python codecs that are no mail charset and would turn text into other text (escapes
# into lone surrogates, domain names, nothing at all).
_NOT_MAIL = frozenset({"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined"})
#: The charsets detection chooses from: those mail is written in. Without a shortlist,
#: short Western text comes out as cp437 or UTF-16.
DETECTABLE = (
    "cp1252",
    "cp1250",
    "iso8859_2",
    "cp1251",
    "koi8_r",
    "cp1253",
    "cp1254",
    "cp1255",
    "cp1256",
    "cp1257",
    "cp874",
    "cp932",
    "euc_jp",
    "iso2022_jp",
    "cp949",
    "gb18030",
    "big5",
)
#: Bytes detection looks at; enough to tell, bounded so a large body stays quick.
DETECT_SAMPLE = 256 * 1024
_SURROGATE = re.compile("[\ud800-\udfff]")
_ISO2022_ESCAPE = re.compile(rb"\x1b[$(][@ABDJ]")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def codec_name(charset: object) -> str | None:
    """The Python text codec for a MIME charset label, or ``None`` when there is none."""
    if not isinstance(charset, str) or not charset.strip():
        return None
    label = charset.strip().strip("\"'").lower().split("*")[0]
    label = _ALIASES.get(label, label)
    if not label:
        return None
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_MAIL:
        return None
    return info.name


def _strict(data: bytes, codec: str | None) -> str | None:
    if not codec:
        return None
    try:
        return data.decode(codec)
    except (LookupError, ValueError):  # UnicodeDecodeError is a ValueError
        return None


def detect(data: bytes, hint: str | None = None) -> str:
    """Text of unlabelled bytes: ASCII, UTF-8 (BOMs too), ``hint``, then detection."""
    for codec in _candidates(data, hint):
        found = _strict(data, codec)
        if found is not None:
            return found
    return data.decode("latin-1")  # decodes any byte


def _candidates(data: bytes, hint: str | None) -> Iterator[str | None]:
    """Codecs to try in turn; detection runs only when nothing cheaper fits."""
    if data.isascii():
        if _ISO2022_ESCAPE.search(data):
            yield "iso2022_jp"  # 7-bit, so it passes for ASCII
        yield "ascii"
        return
    yield from (codec for bom, codec in _BOMS if data.startswith(bom))
    yield "utf-8"
    yield codec_name(hint)
    yield from _detected(data)
    yield "cp1252"


def _detected(data: bytes) -> list[str]:
    """Candidate codecs, best first. Among equally good ones windows-1252 goes first: it is
    the commonest unlabelled 8-bit charset in mail, and short Western text ties."""
    try:
        results = list(from_bytes(data[:DETECT_SAMPLE], cp_isolation=list(DETECTABLE)))
    except Exception:  # a detector bug must not cost the mail; the fallbacks still decode
        return []
    if not results:
        return []
    best = min(r.chaos for r in results)
    tied = [r.encoding for r in results if r.chaos <= best + 0.01]
    ordered = sorted(tied, key=lambda e: e != "cp1252")
    return ordered + [r.encoding for r in results if r.encoding not in tied]


def decode_text(data: bytes, charset: object = None, hint: str | None = None) -> str:
    """Text of a body or encoded word: the declared ``charset`` when it decodes the bytes,
    else :func:`detect` (UTF-8 first). Never raises, never leaves a lone surrogate.

    A single-byte (or 7-bit) label cannot show it is wrong; 8-bit text that is
    valid UTF-8 is UTF-8 whatever such a label says (the common mislabel of gateways: real
    Latin-1 or Cyrillic text is next to never valid UTF-8)."""
    codec = codec_name(charset)
    if (
        codec
        and _one_char_per_byte(codec)
        and not data.isascii()
        and _strict(data, "utf-8") is not None
    ):
        codec = "utf-8"
    found = _strict(data, codec)
    if found is None:
        found = detect(data, hint)
    return scrub(found)


@functools.cache
def _one_char_per_byte(codec: str) -> bool:
    return len(bytes(range(128, 256)).decode(codec, "replace")) == 128


def repair(text: str, hint: str | None = None) -> str:
    """Header text parsed from bytes keeps raw 8-bit octets as lone surrogates: decode them."""
    if not _SURROGATE.search(text):
        return text
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that stands for no byte: nothing to recover
        return scrub(text)
    return decode_text(raw, None, hint)


def scrub(value: Any) -> Any:
    """``value`` with every lone surrogate replaced by U+FFFD, in nested dicts and lists:
    JSON (and UTF-8) cannot carry them."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value
