"""Safe accessors over ``email.message.Message``: none of them raises on a malformed header.

The standard library parses some headers lazily and raises assorted exceptions on broken
input; every accessor here falls back to a sensible default instead.
"""

from __future__ import annotations

from email import policy
from email.message import Message

from libs.common.text.headers import split_addresses
from libs.common.text.transfer import payload_bytes
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
    """Every address of the header (all its occurrences), parsed as every provider reads
    them (:func:`libs.common.text.headers.split_addresses`): one absurd Cc never stops a
    customer's mail, and a From no parser can split still names who sent it."""
    return tuple(
        MailAddress(address=address, name=display)
        for n, value in raw(message)
        if n.lower() == name
        for display, address in split_addresses(value, hint)
    )


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


def message_bytes(message: Message) -> bytes:
    """The header lines and body of a (sub-)message as the bytes they came in: raw 8-bit
    octets (kept by the parser as surrogates) are given back unchanged."""
    if message.is_multipart():
        return as_bytes(message)
    lines = [f"{name}: {unfold(value)}" for name, value in raw(message)]
    head = "\r\n".join(lines).encode("utf-8", "surrogateescape")
    body = payload_bytes(message)
    return head + b"\r\n\r\n" + body if lines else body
