"""Robust decoding of header values and body bytes: a wrong or unknown charset never raises,
and bytes without a usable label are decoded by detection."""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re

from services.ticketer.domain.detect import detect_text, mostly_utf8

_HIGH = re.compile(rb"[\x80-\xff]")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"(\?=)[ \t\r\n]+(?==\?)")
_FOLD = re.compile(r"\r?\n[ \t]*")
# Labels seen in the wild that name no codec, or name one wrongly.
_ALIASES = {
    "unknown-8bit": "",
    "x-unknown": "",
    "unknown": "",
    "default": "",
    "ks_c_5601-1987": "cp949",
    "x-sjis": "shift_jis",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "gb2312": "gb18030",  # gb18030 is a superset; senders often label GBK text gb2312
    "gbk": "gb18030",
}


def codec_name(charset: str | None) -> str | None:
    """A Python codec for a MIME charset label, or ``None`` when there is none."""
    if not charset:
        return None
    label = charset.strip().strip('"').lower().split("*")[0]
    label = _ALIASES.get(label, label)
    if not label:
        return None
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Text of ``data`` in its declared charset, or found by detection; never raises.

    - no label, or one naming no codec (``x-unknown``, ``unknown-8bit``, a typo): detection
      (:func:`services.ticketer.domain.detect.detect_text`, UTF-8 first);
    - ISO-8859-1: read as its superset windows-1252, as every mail program does, so that
      “curly quotes” are not C1 control characters;
    - a label the bytes break: UTF-8 with stray 8-bit bytes keeps its UTF-8; a few bad bytes in
      another charset become U+FFFD; more than a few mean the label is wrong: detection.
    """
    declared = codec_name(charset)
    if declared is None:
        return detect_text(data)
    for codec in ("cp1252", declared) if declared == "iso8859-1" else (declared,):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    if declared == "utf-8":
        return mostly_utf8(data, labelled=True) or detect_text(data)
    text = data.decode(declared, errors="replace")
    # U+FFFD the bytes already held does not count against the label.
    bad = text.count("\ufffd") - data.decode(declared, errors="ignore").count("\ufffd")
    return text if bad <= max(1, len(_HIGH.findall(data)) // 100) else detect_text(data)


def unsurrogate(value: str, hint: str | None = None) -> str:
    """Header text parsed from bytes keeps 8-bit octets as surrogates: decode them properly.

    Raw 8-bit header bytes are UTF-8 when they are valid UTF-8 (RFC 6532); otherwise the
    ``hint`` — the charset the mail declares for its text — as mail programs that write raw
    headers use their body's charset (:func:`decode_bytes`: detection when there is none or
    the bytes break it).
    """
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        raw = value.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return decode_bytes(raw, hint)


def unfold(value: str) -> str:
    return _FOLD.sub(" ", value).strip()


def decode_header_value(value: str, hint: str | None = None) -> str:
    """Unfold, repair 8-bit octets (see :func:`unsurrogate` for ``hint``) and decode RFC 2047
    encoded words."""
    value = _BETWEEN_WORDS.sub(r"\1", unfold(unsurrogate(value, hint)))
    return _ENCODED_WORD.sub(_decode_word, value)


def _decode_word(match: re.Match[str]) -> str:
    charset, encoding, text = match.group(1), match.group(2).upper(), match.group(3)
    try:
        if encoding == "B":
            data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        else:
            data = quopri.decodestring(text.encode("ascii", "replace"), header=True)
    except (binascii.Error, ValueError):
        return match.group(0)
    return decode_bytes(data, charset)
