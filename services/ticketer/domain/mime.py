"""Parse raw RFC 822 bytes into plain data (``ParsedMail``) with the standard library.

Parsing never raises on bad input: an unreadable part is skipped and named in ``defects``.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses

from services.ticketer.domain.decode import (
    decode_bytes,
    decode_header_value,
    unfold,
    unsurrogate,
)
from services.ticketer.domain.facts import (
    MailAddress,
    MailFacts,
    first_message_id,
    message_ids,
)
from services.ticketer.domain.report import Fields, field_blocks, split_delivery_status

_DSN_TYPES = {"message/delivery-status", "message/global-delivery-status", "text/delivery-status"}
_HEADERS_TYPES = {
    "text/rfc822-headers",
    "text/rfc822-header",  # seen in the wild
    "message/rfc822-headers",
    "message/global-headers",
}
_MESSAGE_TYPES = {"message/rfc822", "message/global", "message/partial"}
# The parser is stateless; policy.default gives str headers and RFC 2231 filenames.
_PARSER = BytesParser(policy=policy.default)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None


@dataclass(frozen=True)
class ParsedMail:
    facts: MailFacts
    attachments: tuple[Attachment, ...] = ()
    #: Parts that could not be read, each a short description (for quarantine reasons).
    defects: tuple[str, ...] = ()


@dataclass
class _Acc:
    """What the walk over the MIME tree collects."""

    texts: list[str]
    htmls: list[str]
    attachments: list[Attachment]
    part_types: list[str]
    defects: list[str]
    dsn_blocks: list[Fields]
    has_dsn: bool = False
    returned_message_id: str | None = None
    returned_headers: tuple[tuple[str, str], ...] = ()
    feedback: Fields | None = None


def parse_mime(raw: bytes) -> ParsedMail:
    """Parse one message; ``raw`` may start with an mbox ``From `` line."""
    message = _PARSER.parsebytes(raw)
    headers = tuple((name.lower(), decode_header_value(value)) for name, value in _raw(message))
    acc = _Acc([], [], [], [], [], [])
    _walk(message, acc, top=True)
    dsn_message, dsn_recipients = split_delivery_status(acc.dsn_blocks)
    content_type, report_type = _content_type(message)
    facts = MailFacts(
        message_id=first_message_id(_first(headers, "message-id")),
        in_reply_to=message_ids(_first(headers, "in-reply-to")),
        references=message_ids(" ".join(v for n, v in headers if n == "references")),
        subject=_first(headers, "subject") or "",
        from_=_one_address(message, "from"),
        sender=_one_address(message, "sender"),
        to=_addresses(message, "to"),
        cc=_addresses(message, "cc"),
        reply_to=_addresses(message, "reply-to"),
        return_path=_return_path(_first(headers, "return-path")),
        headers=headers,
        content_type=content_type,
        report_type=report_type,
        text="\n".join(acc.texts) if acc.texts else None,
        html=acc.htmls[0] if acc.htmls else None,
        part_types=tuple(acc.part_types),
        has_delivery_status=acc.has_dsn,
        delivery_status=dsn_recipients,
        delivery_status_message=dsn_message,
        returned_message_id=acc.returned_message_id,
        returned_headers=acc.returned_headers,
        feedback_report=acc.feedback,
    )
    return ParsedMail(facts, tuple(acc.attachments), tuple(acc.defects))


def _walk(part: Message, acc: _Acc, *, top: bool = False) -> None:
    ctype = _safe_type(part)
    acc.part_types.append(ctype)
    if ctype in _DSN_TYPES:
        acc.has_dsn = True
        acc.dsn_blocks.extend(field_blocks(_report_text(part)))
    elif ctype == "message/feedback-report":
        acc.feedback = tuple(pair for block in field_blocks(_report_text(part)) for pair in block)
    elif ctype in _HEADERS_TYPES:
        _returned_headers(_report_text(part), acc)
    elif ctype in _MESSAGE_TYPES:
        _returned_message(part, acc)
    elif part.is_multipart():
        for sub in part.get_payload() or []:
            if isinstance(sub, Message):
                _walk(sub, acc)
    else:
        _leaf(part, ctype, acc, top=top)


def _returned_message(part: Message, acc: _Acc) -> None:
    """A message/rfc822 part: the returned (or forwarded) message; kept as an attachment."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if isinstance(inner, Message):
        if not acc.returned_headers:
            acc.returned_headers = tuple(
                (name.lower(), decode_header_value(value)) for name, value in _raw(inner)
            )
            acc.returned_message_id = acc.returned_message_id or _msgid(inner)
        data = _as_bytes(inner)
    else:
        text = _report_text(part)
        _returned_headers(text, acc)
        data = text.encode("utf-8")
    acc.attachments.append(Attachment(_filename(part) or "message.eml", "message/rfc822", data))


def _leaf(part: Message, ctype: str, acc: _Acc, *, top: bool) -> None:
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:  # the stdlib raises assorted errors on broken encodings
        acc.defects.append(f"{ctype}: undecodable payload ({type(exc).__name__})")
        return
    if not isinstance(data, bytes):
        data = b""
    filename = _filename(part)
    disposition = _disposition(part)
    is_body = not filename and (disposition != "attachment" or top)
    if is_body and ctype == "text/html":
        acc.htmls.append(decode_bytes(data, _charset(part)))
        return
    if is_body and (ctype == "text/plain" or (top and ctype.startswith("text/"))):
        acc.texts.append(decode_bytes(data, _charset(part)))
        return
    content_id = _header(part, "content-id")
    acc.attachments.append(
        Attachment(
            filename=filename or "attachment",
            content_type=ctype,
            data=data,
            inline=disposition == "inline" or (not disposition and content_id is not None),
            content_id=content_id.strip("<> ") if content_id else None,
        )
    )


def _report_text(part: Message) -> str:
    """The body of a report part as text, whether the parser split it into blocks or not."""
    payload = part.get_payload()
    if isinstance(payload, list):
        chunks = []
        for sub in payload:
            if isinstance(sub, Message):
                lines = [f"{name}: {unfold(value)}" for name, value in _raw(sub)]
                body = sub.get_payload()
                chunks.append("\n".join(lines) + ("\n" + body if isinstance(body, str) else ""))
        text = "\n\n".join(chunks)
    else:
        text = str(payload or "")
    cte = (_header(part, "content-transfer-encoding") or "").lower()
    if cte == "base64":
        try:
            return decode_bytes(base64.b64decode(re.sub(r"\s+", "", text)))
        except (binascii.Error, ValueError):
            return text
    if cte == "quoted-printable":
        raw = part.get_payload(decode=True)
        return decode_bytes(raw) if isinstance(raw, bytes) else text
    return unsurrogate(text)


def _raw(message: Message) -> list[tuple[str, str]]:
    """Header (name, raw value) pairs, unparsed: broken headers cannot make this raise."""
    return [(str(name), str(value)) for name, value in message.raw_items()]


def _first(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    return next((value for n, value in headers if n == name), None)


def _header(part: Message, name: str) -> str | None:
    value = _first(tuple((n.lower(), v) for n, v in _raw(part)), name)
    return decode_header_value(value) if value is not None else None


def _msgid(message: Message) -> str | None:
    return first_message_id(_header(message, "message-id"))


def _returned_headers(text: str, acc: _Acc) -> None:
    """A returned message given as header text: keep its fields and its Message-ID."""
    if acc.returned_headers:
        return
    blocks = field_blocks(text.lstrip("\r\n"))
    acc.returned_headers = (
        tuple((n, decode_header_value(v)) for n, v in blocks[0]) if blocks else ()
    )
    acc.returned_message_id = acc.returned_message_id or first_message_id(
        next((v for n, v in acc.returned_headers if n == "message-id"), None)
    )


def _as_bytes(message: Message) -> bytes:
    try:
        return message.as_bytes(policy=policy.compat32)
    except Exception:  # a returned message too broken to re-serialise is kept empty
        return b""


def _safe_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:  # a malformed Content-Type header reads as the RFC 2045 default
        return "text/plain"


def _content_type(message: Message) -> tuple[str, str | None]:
    ctype = _safe_type(message)
    try:
        report = message.get_param("report-type")
    except Exception:
        report = None
    return ctype, (str(report).strip().lower() if isinstance(report, str) else None)


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        return None
    return decode_header_value(name) if name else None


def _addresses(message: Message, name: str) -> tuple[MailAddress, ...]:
    values = [v for n, v in _raw(message) if n.lower() == name]
    if not values:
        return ()
    # Parse addresses before decoding names: a decoded name may contain commas or quotes.
    parsed = getaddresses([unfold(unsurrogate(v)) for v in values])
    return tuple(
        MailAddress(address=addr.strip(), name=decode_header_value(display))
        for display, addr in parsed
        # ``MAILER-DAEMON <>`` has no address but its name still says who sent it.
        if addr.strip() or display.strip()
    )


def _one_address(message: Message, name: str) -> MailAddress | None:
    found = _addresses(message, name)
    return found[0] if found else None


def _return_path(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip().strip("<>").strip()


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:
        return None


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""
