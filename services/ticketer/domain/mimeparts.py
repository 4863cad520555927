"""Safe accessors over ``email.message.Message``: none of them raises on a malformed header.

The standard library parses some headers lazily and raises assorted exceptions on broken
input; every accessor here falls back to a sensible default instead.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from email import policy
from email.message import Message
from email.utils import getaddresses

from libs.common.text.charsets import repair
from services.ticketer.domain.decode import decode_header_value, unfold
from services.ticketer.domain.facts import MailAddress, first_message_id


def raw(message: Message) -> list[tuple[str, str]]:
    """Header (name, raw value) pairs, unparsed: broken headers cannot make this raise."""
    return [(str(name), str(value)) for name, value in message.raw_items()]


def first(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    return next((value for n, value in headers if n == name), None)


def header(part: Message, name: str) -> str | None:
    value = first(tuple((n.lower(), v) for n, v in raw(part)), name)
    return decode_header_value(value) if value is not None else None


def msgid(message: Message) -> str | None:
    return first_message_id(header(message, "message-id"))


def as_bytes(message: Message) -> bytes:
    try:
        return message.as_bytes(policy=policy.compat32)
    except Exception:  # a returned message too broken to re-serialise is kept empty
        return b""


def safe_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:  # a malformed Content-Type header reads as the RFC 2045 default
        return "text/plain"


def content_type(message: Message) -> tuple[str, str | None]:
    ctype = safe_type(message)
    try:
        report = message.get_param("report-type")
    except Exception:
        report = None
    return ctype, (str(report).strip().lower() if isinstance(report, str) else None)


def filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        return None
    return decode_header_value(name) if name else None


def addresses(message: Message, name: str, hint: str | None = None) -> tuple[MailAddress, ...]:
    values = [v for n, v in raw(message) if n.lower() == name]
    if not values:
        return ()
    # Parse addresses before decoding names: a decoded name may contain commas or quotes.
    parsed = _getaddresses([unfold(repair(v, hint)) for v in values])
    return tuple(
        MailAddress(address=addr.strip(), name=decode_header_value(display))
        for display, addr in parsed
        # ``MAILER-DAEMON <>`` has no address but its name still says who sent it.
        if addr.strip() or display.strip()
    )


def _getaddresses(values: list[str]) -> list[tuple[str, str]]:
    """``getaddresses``, but a header it cannot take apart is no address instead of an error:
    its parser recurses on nested comments (``((((…))))`` 2,000 deep raises RecursionError),
    and one absurd Cc must not keep a customer's mail from becoming a record."""
    try:
        return getaddresses(values)
    except (RecursionError, ValueError, IndexError):
        return [(" ".join(v.split())[:200], "") for v in values]


def one_address(message: Message, name: str, hint: str | None = None) -> MailAddress | None:
    found = addresses(message, name, hint)
    return found[0] if found else None


def text_charset(message: Message) -> str | None:
    """The charset the mail declares for its text: that of the first text part that names
    one, looking at no more than a few dozen parts (nesting may be hostile)."""
    queue, seen = [message], 0
    while queue and seen < 50:
        part = queue.pop(0)
        seen += 1
        ctype = safe_type(part)
        if ctype.startswith("multipart/"):  # not into a returned message/rfc822
            payload = part.get_payload()
            if isinstance(payload, list):
                queue.extend(p for p in payload if isinstance(p, Message))
        elif ctype.startswith("text/") and charset(part):
            return charset(part)
    return None


def charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:
        return None


def disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def transfer_encoding(part: Message) -> str:
    return (header(part, "content-transfer-encoding") or "").strip().lower()


def undo_transfer_encoding(data: bytes, encoding: str) -> bytes:
    """``data`` with a base64 or quoted-printable transfer encoding undone; as it is when
    it has another encoding or does not decode."""
    if encoding == "base64":
        try:
            return base64.b64decode(re.sub(rb"\s+", b"", data))
        except (binascii.Error, ValueError):
            return data
    if encoding == "quoted-printable":
        return quopri.decodestring(data)
    return data


def message_bytes(message: Message) -> bytes:
    """The header lines and body of a (sub-)message as the bytes they came in: raw 8-bit
    octets (kept by the parser as surrogates) are given back unchanged."""
    if message.is_multipart():
        return as_bytes(message)
    lines = [f"{name}: {unfold(value)}" for name, value in raw(message)]
    head = "\r\n".join(lines).encode("utf-8", "surrogateescape")
    try:
        body = message.get_payload(decode=True)
    except Exception:  # the stdlib raises assorted errors on broken encodings
        body = None
    body = body if isinstance(body, bytes) else b""
    return head + b"\r\n\r\n" + body if lines else body
