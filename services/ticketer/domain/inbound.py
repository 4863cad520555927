"""``MailFacts`` from an ``InboundEmail`` contract, for mail whose raw MIME is not at hand."""

from __future__ import annotations

import re

from libs.common.contracts import Address, InboundEmail, MailHeaders
from services.ticketer.domain.facts import (
    MailAddress,
    MailFacts,
    first_message_id,
    message_ids,
    reverse_path,
)
from services.ticketer.domain.mime import parse_mime

_REPORT_TYPE = re.compile(r"report-type\s*=\s*\"?([A-Za-z0-9-]+)", re.IGNORECASE)
_DSN_TYPES = {"message/delivery-status", "message/global-delivery-status"}


def facts_from_inbound(email: InboundEmail, raw_mime: bytes | None = None) -> MailFacts:
    """The classification input of a fetched mail.

    With the raw MIME (``keep_raw_mime``, or a bounce the fetcher chose to download) the
    report parts are read exactly; without it the contract's headers, bodies and attachment
    types are all there is, which still covers loops, auto-replies and text NDRs.
    """
    if raw_mime is not None:
        return parse_mime(raw_mime).facts
    marked = email.headers
    content_type = (marked.content_type or "text/plain").split(";")[0].strip().lower()
    report = _REPORT_TYPE.search(marked.content_type or "")
    part_types = tuple(a.content_type.lower() for a in email.attachments)
    return MailFacts(
        message_id=first_message_id(email.internet_message_id),
        in_reply_to=message_ids(marked.in_reply_to),
        references=tuple(i for ref in marked.references for i in message_ids(ref)),
        subject=email.subject,
        from_=_address(email.from_),
        sender=_address(email.sender),
        to=tuple(MailAddress(a.address, a.name) for a in email.to),
        cc=tuple(MailAddress(a.address, a.name) for a in email.cc),
        reply_to=tuple(MailAddress(a.address, a.name) for a in email.reply_to),
        return_path=reverse_path(marked.return_path),
        headers=_header_pairs(marked),
        content_type=content_type,
        report_type=report.group(1).lower() if report else None,
        text=email.body.text,
        html=email.body.html,
        part_types=part_types,
        has_delivery_status=bool(_DSN_TYPES & set(part_types)),
    )


def _header_pairs(marked: MailHeaders) -> tuple[tuple[str, str], ...]:
    """The headers the contract carries, as (lower-case name, value) pairs."""
    headers: list[tuple[str, str]] = [
        (name, value)
        for name, value in (
            ("auto-submitted", marked.auto_submitted),
            ("precedence", marked.precedence),
            ("x-auto-response-suppress", marked.x_auto_response_suppress),
            ("x-loop", marked.x_loop),
            ("return-path", marked.return_path),
            ("content-type", marked.content_type),
        )
        if value is not None
    ]
    headers += [(name.lower(), value) for name, value in marked.other.items()]
    headers += [(_mailpipe_name(name), value) for name, value in marked.x_mailpipe.items()]
    return tuple(headers)


def _mailpipe_name(name: str) -> str:
    lowered = name.lower()
    return lowered if lowered.startswith("x-mailpipe-") else f"x-mailpipe-{lowered}"


def _address(address: Address | None) -> MailAddress | None:
    return None if address is None else MailAddress(address.address, address.name)
