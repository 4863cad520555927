"""Parse raw RFC 822 bytes into plain data (``ParsedMail``) with the standard library.

Parsing never raises on bad input: an unreadable part is skipped and named in ``defects``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser

from libs.common.text.charsets import decode_html, decode_text
from libs.common.text.headblock import mend_head
from libs.common.text.mimetree import Part, content, parse_tree
from libs.common.text.transfer import decode_transfer, payload_bytes, transfer_encoding
from services.ticketer.domain import mimeparts as mp
from services.ticketer.domain.decode import decode_header_value
from services.ticketer.domain.facts import MailFacts, first_message_id, message_ids, reverse_path
from services.ticketer.domain.report import Fields, field_blocks, split_delivery_status

_DSN_TYPES = {"message/delivery-status", "message/global-delivery-status", "text/delivery-status"}
_HEADERS_TYPES = {
    "text/rfc822-headers",
    "text/rfc822-header",  # seen in the wild
    "message/rfc822-headers",
    "message/global-headers",
}
_MESSAGE_TYPES = {"message/rfc822", "message/global"}
# Deeper nesting than this is an attack or a broken mail, not a message worth reading.
_MAX_DEPTH = 40
#: The longest Content-* header value the structured parser reads (the rest is dropped).
_MAX_STRUCTURED = 4096


class _Lenient(policy.EmailPolicy):
    """``policy.default`` (str headers, RFC 2231 filenames), except that a value its
    structured parser fails on is handed out as its text: that parser raises IndexError on
    a parameter name with "*" and no value (``charset*``), and every read of the header
    would raise."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        if len(value) > _MAX_STRUCTURED and name.lower().startswith("content-"):
            # The structured parser's time grows faster than the value (a hostile
            # Content-Type of 30 KB took seconds, read a dozen times a mail); no real one
            # comes near this.
            value = value[:_MAX_STRUCTURED]
        try:
            return super().header_fetch_parse(name, value)
        except Exception:
            return value


_POLICY = _Lenient()
_HEADER_PARSER = BytesHeaderParser(policy=_POLICY)


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

    #: The charset the mail declares for its text: a part without a usable label of its own
    #: is tried in it before detection, as the simulator does.
    hint: str | None = None
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    part_types: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    dsn_blocks: list[Fields] = field(default_factory=list)
    has_dsn: bool = False
    returned_message_id: str | None = None
    returned_headers: tuple[tuple[str, str], ...] = ()
    feedback: Fields | None = None


def parse_mime(raw: bytes) -> ParsedMail:
    """Parse one message; ``raw`` may start with an mbox ``From `` line."""
    message, too_deep = _parse(raw)
    hint = mp.text_charset(message)
    headers = tuple(
        (name.lower(), decode_header_value(value, hint)) for name, value in mp.raw(message)
    )
    acc = _Acc(hint=hint)
    if too_deep:
        acc.defects.append("MIME nesting too deep for the parser: only the headers were read")
    else:
        _walk(message, acc, top=True)
    dsn_message, dsn_recipients = split_delivery_status(acc.dsn_blocks)
    content_type, report_type = mp.content_type(message)
    facts = MailFacts(
        message_id=first_message_id(mp.first(headers, "message-id")),
        in_reply_to=message_ids(mp.first(headers, "in-reply-to")),
        references=message_ids(" ".join(v for n, v in headers if n == "references")),
        subject=mp.first(headers, "subject") or "",
        from_=mp.one_address(message, "from", hint),
        sender=mp.one_address(message, "sender", hint),
        to=mp.addresses(message, "to", hint),
        cc=mp.addresses(message, "cc", hint),
        reply_to=mp.addresses(message, "reply-to", hint),
        # The topmost Return-Path is the one the receiving server added last.
        return_path=reverse_path(mp.first(headers, "return-path")),
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


def _parse(raw: bytes) -> tuple[Message, bool]:
    """The parsed message, and whether only its headers could be read. The standard parser
    recurses once per MIME level, so a hostile nesting (a thousand levels) would exhaust the
    stack: the shared tree stops descending at its depth cut, and the headers alone remain
    the fallback should anything still recurse too deep."""
    try:
        return parse_tree(raw, _POLICY), False
    except RecursionError:
        return _HEADER_PARSER.parsebytes(mend_head(raw)), True


def _walk(part: Message, acc: _Acc, *, top: bool = False, depth: int = 0) -> None:
    if depth > _MAX_DEPTH:
        acc.defects.append(f"MIME nesting deeper than {_MAX_DEPTH} levels: rest skipped")
        return
    ctype = mp.safe_type(part)
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
                _walk(sub, acc, depth=depth + 1)
    else:
        _leaf(part, ctype, acc, top=top)


def _returned_message(part: Message, acc: _Acc) -> None:
    """A message/rfc822 part: the returned (or forwarded) message; kept as an attachment."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    encoding = transfer_encoding(part)
    if isinstance(inner, Message) and encoding in ("base64", "quoted-printable"):
        # RFC 2046 forbids it, MTAs do it (and RFC 6532 allows it for message/global): the
        # parser read the encoded text as a message; the real one is inside.
        inner, _ = _parse(decode_transfer(mp.message_bytes(inner), encoding))
    if isinstance(inner, Message):
        if not acc.returned_headers:
            acc.returned_headers = tuple(
                (name.lower(), decode_header_value(value)) for name, value in mp.raw(inner)
            )
            acc.returned_message_id = acc.returned_message_id or mp.msgid(inner)
        data = mp.as_bytes(inner)
    else:
        text = _report_text(part)
        _returned_headers(text, acc)
        data = text.encode("utf-8")
    acc.attachments.append(Attachment(mp.filename(part) or "message.eml", "message/rfc822", data))


def _leaf(part: Message, ctype: str, acc: _Acc, *, top: bool) -> None:
    data = content(part) if isinstance(part, Part) else b""
    filename = mp.filename(part)
    disposition = mp.disposition(part)
    is_body = not filename and (disposition != "attachment" or top)
    if is_body and ctype == "text/html":
        acc.htmls.append(decode_html(data, mp.charset(part), acc.hint))
        return
    if is_body and (ctype == "text/plain" or (top and ctype.startswith("text/"))):
        acc.texts.append(decode_text(data, mp.charset(part), acc.hint))
        return
    content_id = mp.header(part, "content-id")
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
    """The body of a report part as text, whether the parser split it into blocks or not,
    with its transfer encoding undone and raw 8-bit text (RFC 6533's UTF-8) decoded."""
    payload = part.get_payload()
    if isinstance(payload, list):
        # The parser reads every message/* part but delivery-status as a message: its
        # "headers" are the first field block, its body the rest.
        blocks = [mp.message_bytes(sub) for sub in payload if isinstance(sub, Message)]
        data = decode_transfer(b"\r\n\r\n".join(blocks), transfer_encoding(part))
    else:
        data = payload_bytes(part)
    return decode_text(data, mp.charset(part))


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
