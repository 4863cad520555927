"""A MIME part's bytes with its Content-Transfer-Encoding undone, however broken.

The email package's own decoding (``get_payload(decode=True)``) gives up on more than it
should: a label with blanks, quotes or a comment (``base64 (encoded)``, ``"base64"``,
``Quoted-Printable ``) leaves the encoded text as the content, and base64 that was padded and
then continued (two encoded chunks one after the other, as some gateways join them) stops at
the first padding. :func:`payload_bytes` reads all of these, never raises, and keeps whatever
decodes: a truncated or damaged body loses only the damaged bytes.
"""

from __future__ import annotations

import binascii
import quopri
import re
from email.message import Message

_LABEL = re.compile(r"[a-z0-9-]+")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]+")
_PADDING = re.compile(rb"=+")
_UU = frozenset({"x-uuencode", "uuencode", "uue", "x-uue"})


def transfer_encoding(part: Message) -> str:
    """The part's Content-Transfer-Encoding as one lower-case token (``7bit`` when absent or
    unreadable): quotes, blanks and trailing comments dropped."""
    value = part.get("content-transfer-encoding")
    found = _LABEL.search(str(value or "").lower()) if value is not None else None
    return found.group(0) if found else "7bit"


def payload_bytes(part: Message) -> bytes:
    """The decoded bytes of a leaf part (``b""`` for a multipart); never raises."""
    if part.is_multipart():
        return b""
    # The stored payload, not ``get_payload()``: that turns the 8-bit bytes the parser kept
    # (as surrogates) into U+FFFD under the part's label before anyone could decode them.
    payload = getattr(part, "_payload", None)
    if isinstance(payload, bytes):
        data = payload
    else:
        data = str(payload or "").encode("utf-8", "surrogateescape")
    return decode_transfer(data, transfer_encoding(part))


def decode_transfer(data: bytes, encoding: str) -> bytes:
    """``data`` decoded from ``encoding`` (an unknown one leaves the bytes as sent)."""
    if encoding == "base64":
        return decode_base64(data)
    if encoding == "quoted-printable":
        return quopri.decodestring(data)  # a bad escape (``=ZZ``) is kept as written
    if encoding in _UU:
        return _decode_uu(data)
    return data


def decode_base64(data: bytes) -> bytes:
    """Lenient base64: characters outside the alphabet and line breaks skipped, each chunk
    that padding ends decoded in turn, a missing padding supplied, a dangling last character
    (which holds no whole byte) dropped."""
    out = bytearray()
    for chunk in _PADDING.split(data):
        clean = _NOT_BASE64.sub(b"", chunk)
        clean = clean[: len(clean) - len(clean) % 4] if len(clean) % 4 == 1 else clean
        if clean:
            out += binascii.a2b_base64(clean + b"=" * (-len(clean) % 4))
    return bytes(out)


def _decode_uu(data: bytes) -> bytes:
    """uuencoded lines between ``begin`` and ``end``; a damaged line keeps what it holds."""
    out = bytearray()
    started = False
    for line in data.splitlines():
        if not started:
            started = line.startswith(b"begin")
            continue
        if line.strip() in (b"end", b"`", b""):
            if line.strip() == b"end":
                break
            continue
        try:
            out += binascii.a2b_uu(line)
        except binascii.Error:
            # A line with trailing garbage (some encoders pad it): its declared length.
            length = (((line[0] - 32) & 63) * 4 + 5) // 3
            try:
                out += binascii.a2b_uu(line[:length])
            except binascii.Error:
                continue
    return bytes(out) if started else data
