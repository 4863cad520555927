"""Bytes → text for mail of any origin, the way Exchange and mail programs convert it.

A charset label that names a text codec and fits the bytes is honoured (ISO-8859-1 read as
windows-1252); 8-bit bytes that are valid UTF-8 are UTF-8 whatever single-byte label they
carry; a label the bytes break beyond a stray byte, or none, gives way to detection
(:mod:`libs.common.text.detect`). Nothing here raises on content, and no lone surrogate
leaves it: JSON, UTF-8 and SQL cannot carry one.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re
from typing import Any

from libs.common.text.detect import detect_text, mostly_utf8
from libs.common.text.labels import codec_name, decode_as, html_charset, one_char_per_byte

_SURROGATE = re.compile("[\ud800-\udfff]")
_HIGH = re.compile(rb"[\x80-\xff]")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"(\?=)[ \t\r\n]+(?==\?)")
_WIDE = ("utf-16", "utf-32")
#: Byte-order marks without a NUL (UTF-32's little-endian one starts as UTF-16's).
_WIDE_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def decode_text(data: bytes, charset: object = None, hint: str | None = None) -> str:
    """Text of a body part or encoded word in its declared ``charset``, or found by detection
    (``hint``: the charset the mail declares for its text, tried before guessing).

    - no label, or one naming no codec (``x-unknown``, ``unknown-8bit``, ``base64``, a typo):
      :func:`~libs.common.text.detect.detect_text`, UTF-8 first;
    - a single-byte or 7-bit label on 8-bit bytes that are valid UTF-8: UTF-8, the common
      mislabel of gateways (real Latin-1 or Cyrillic text is next to never valid UTF-8);
    - a 7-bit label (``us-ascii``) on other 8-bit bytes: detection, the label says nothing;
    - a UTF-16/32 label on bytes without a NUL or byte-order mark that are valid UTF-8:
      UTF-8 (read as labelled they would be CJK mojibake);
    - a label the bytes fit: that charset, even where detection would say otherwise;
    - a label the bytes break: UTF-8 with stray 8-bit bytes keeps its UTF-8; a few bad bytes
      in another charset become U+FFFD; more than a few mean the label is wrong: detection.
    """
    codec = codec_name(charset)
    text = detect_text(data, hint) if codec is None else _labelled(data, codec, hint)
    return scrub(text)


def _labelled(data: bytes, codec: str, hint: str | None) -> str:
    if one_char_per_byte(codec) and not data.isascii():
        utf8 = decode_as(data, "utf-8")
        if utf8 is not None:
            return utf8
        if codec == "ascii":  # 8-bit bytes under a 7-bit label: the label says nothing
            return detect_text(data, hint)
    if codec.startswith(_WIDE) and b"\x00" not in data and not data.startswith(_WIDE_BOMS):
        # UTF-16/32 text has a NUL in every ASCII character; bytes without one that are
        # valid UTF-8 are UTF-8 (read as labelled, they would be CJK mojibake).
        utf8 = decode_as(data, "utf-8")
        if utf8 is not None:
            return utf8
    found = decode_as(data, codec)
    if found is not None:
        return found
    if codec == "utf-8":
        return mostly_utf8(data, labelled=True) or detect_text(data, hint)
    try:
        text = data.decode(codec, errors="replace")
        # U+FFFD the bytes already held does not count against the label.
        bad = text.count("\ufffd") - data.decode(codec, errors="ignore").count("\ufffd")
    except (LookupError, ValueError):  # a codec that fails even so: the label is no use
        return detect_text(data, hint)
    return text if bad <= max(1, len(_HIGH.findall(data)) // 100) else detect_text(data, hint)


def decode_html(data: bytes, charset: object = None, hint: str | None = None) -> str:
    """An HTML part: as :func:`decode_text`, the document's own ``<meta>`` charset standing in
    when the MIME header names no codec."""
    return decode_text(data, charset if codec_name(charset) else html_charset(data), hint)


def repair(text: str, hint: str | None = None) -> str:
    """Header text parsed from bytes keeps raw 8-bit octets as lone surrogates: decode them.

    Raw 8-bit header bytes are UTF-8 when they are (mostly) valid UTF-8 (RFC 6532); otherwise
    in the ``hint`` — the charset the mail declares for its text — as mail programs that write
    raw headers use their body's charset; otherwise by detection.
    """
    if not _SURROGATE.search(text):
        return text
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that stands for no byte: nothing to recover
        return scrub(text)
    return decode_text(raw, None, hint)


def decode_words(value: str, hint: str | None = None) -> str:
    """RFC 2047 encoded words decoded (whitespace between adjacent ones dropped), whatever
    their label (an unknown one by detection, ``hint`` first); a word that does not decode
    is kept as written."""
    if "=?" not in value:
        return value
    value = _BETWEEN_WORDS.sub(r"\1", value)
    return _ENCODED_WORD.sub(lambda match: _decode_word(match, hint), value)


def _decode_word(match: re.Match[str], hint: str | None) -> str:
    charset, encoding, text = match.group(1), match.group(2).upper(), match.group(3)
    try:
        if encoding == "B":
            data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        else:
            data = quopri.decodestring(text.encode("ascii", "replace"), header=True)
    except (binascii.Error, ValueError):
        return match.group(0)
    return decode_text(data, charset, hint)


def scrub(value: Any) -> Any:
    """``value`` with every lone surrogate replaced by U+FFFD, in nested dicts and lists:
    JSON (and UTF-8, and SQL) cannot carry them."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value
