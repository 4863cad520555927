"""MIME charset labels → Python text codecs, and the charset an HTML document names itself.

Mail carries labels that name no codec (``x-unknown``), name one by another name
(``ks_c_5601-1987``), or name a Python codec that is no charset at all (``base64``,
``unicode_escape``, ``idna``): the first and last count as no label, so the bytes are decoded
by detection instead of raising or turning into other text.
"""

from __future__ import annotations

import codecs
import functools
import re

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
    "x-euc-jp": "euc_jp",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "gb2312": "gb18030",  # gb18030 is a superset; senders often label GBK text gb2312
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cn-big5": "big5",
    "x-mac-roman": "mac_roman",
    "unicode-1-1-utf-7": "utf-7",
}
# Python text codecs that are no mail charset and would turn text into other text (escapes
# into lone surrogates, domain names, nothing at all).
_NOT_MAIL = frozenset({"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined"})
#: windows-1252 over Latin-1: the characters it puts at 0x80-0x9F, where Latin-1 has C1
#: controls; the five bytes windows-1252 leaves undefined stay Latin-1's.
_WESTERN_TABLE = {
    code: bytes([code]).decode("cp1252")
    for code in range(0x80, 0xA0)
    if code not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}
_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?\s*([\w.:-]{1,40})", re.I)
#: An HTML document names its charset near its start; no further is read.
_META_SCAN = 4096


def codec_name(charset: object) -> str | None:
    """The Python text codec for a MIME charset label, or ``None`` when there is none."""
    if not isinstance(charset, str) or not charset.strip():
        return None
    # RFC 2231 appends a language (``utf-8*de``); quotes survive some parsers.
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


def decode_as(data: bytes, codec: str | None) -> str | None:
    """``data`` in ``codec`` when the bytes fit it, else ``None``. ISO-8859-1 is read as its
    superset windows-1252 (:func:`western`), as every mail program does, so that "curly
    quotes" are not C1 control characters."""
    if not codec:
        return None
    if codec == "iso8859-1":
        return western(data)
    try:
        return data.decode(codec)
    except (LookupError, ValueError):  # UnicodeDecodeError is a ValueError
        return None


def western(data: bytes) -> str:
    """windows-1252 as browsers and mail programs read it: any bytes fit, the five it leaves
    undefined being their Latin-1 characters (never U+FFFD where a character is defined)."""
    return data.decode("latin-1").translate(_WESTERN_TABLE)


@functools.cache
def one_char_per_byte(codec: str) -> bool:
    """A single-byte (or 7-bit) charset: any bytes fit it, so it cannot show it is wrong."""
    return len(bytes(range(128, 256)).decode(codec, "replace")) == 128


def html_charset(data: bytes) -> str | None:
    """The charset an HTML document names in a ``<meta charset>`` or ``http-equiv`` tag, when
    it names a codec."""
    found = _META_CHARSET.search(data[:_META_SCAN])
    label = found.group(1).decode("ascii") if found else None
    return label if codec_name(label) else None
