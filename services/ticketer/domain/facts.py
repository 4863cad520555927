"""``MailFacts``: the one plain input of classification, built from raw MIME or a contract."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from libs.common.msgid import split_message_ids

_COMMENT = re.compile(r"\([^()]*\)")
_ANGLE_ADDR = re.compile(r"<([^<>]*)>")


@dataclass(frozen=True)
class MailAddress:
    address: str
    name: str = ""

    @property
    def lower(self) -> str:
        return self.address.lower()


@dataclass(frozen=True)
class DeliveryStatus:
    """One per-recipient block of a ``message/delivery-status`` part (RFC 3464)."""

    final_recipient: str = ""
    original_recipient: str = ""
    action: str = ""
    status: str = ""
    diagnostic_code: str = ""
    remote_mta: str = ""


@dataclass(frozen=True)
class MailFacts:
    """What classification needs to know about one mail; absent headers are ``None``/empty.

    ``return_path`` is ``""`` for the null sender ``<>`` and ``None`` when the header is absent.
    ``headers`` holds every header as (lower-cased name, decoded value), repeats included.
    """

    message_id: str | None = None
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    subject: str = ""
    from_: MailAddress | None = None
    sender: MailAddress | None = None
    to: tuple[MailAddress, ...] = ()
    cc: tuple[MailAddress, ...] = ()
    reply_to: tuple[MailAddress, ...] = ()
    return_path: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "text/plain"
    report_type: str | None = None
    text: str | None = None
    html: str | None = None
    #: Content types of every leaf part and attachment, lower-cased.
    part_types: tuple[str, ...] = ()
    has_delivery_status: bool = False
    delivery_status: tuple[DeliveryStatus, ...] = ()
    #: Per-message fields of the delivery-status part (Reporting-MTA, …), lower-cased names.
    delivery_status_message: tuple[tuple[str, str], ...] = ()
    #: Message-ID of the returned message (``message/rfc822`` or ``text/rfc822-headers``).
    returned_message_id: str | None = None
    #: Headers of the returned message, (lower-cased name, value), when one is attached.
    returned_headers: tuple[tuple[str, str], ...] = ()
    #: Fields of a ``message/feedback-report`` part (RFC 5965), lower-cased names.
    feedback_report: tuple[tuple[str, str], ...] | None = None
    _index: dict[str, tuple[str, ...]] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        index: dict[str, list[str]] = {}
        for name, value in self.headers:
            index.setdefault(name.lower(), []).append(value)
        # Frozen: the lookup index is derived once, here.
        object.__setattr__(self, "_index", {k: tuple(v) for k, v in index.items()})

    def header(self, name: str) -> str | None:
        """The first value of a header, or ``None``."""
        values = self._index.get(name.lower())
        return values[0] if values else None

    def header_all(self, name: str) -> tuple[str, ...]:
        return self._index.get(name.lower(), ())


def message_ids(value: str | None) -> tuple[str, ...]:
    """Every ``<id>`` in a header value, in the canonical form (libs/common/msgid.py) that the
    contracts and tables use; a bare id without brackets is kept."""
    if not value:
        return ()
    return tuple(split_message_ids(value))


def reverse_path(value: str | None) -> str | None:
    """The address of a ``Return-Path`` value: ``""`` for the null reverse-path, ``None`` when
    there is no header.

    ``<>``, ``< >``, ``<<>>``, ``<> (comment)`` and an empty value are all the null sender
    (RFC 5321 section 4.5.5; an empty one names no one to answer either).
    """
    if value is None:
        return None
    text = without_comments(value)
    match = _ANGLE_ADDR.search(text)
    inner = match.group(1) if match else text
    return inner.strip().strip("<>").strip()


def without_comments(value: str) -> str:
    """A header value with its RFC 5322 comments (``(…)``, nested too) made spaces."""
    text = value
    for _ in range(10):  # comments nest; a few rounds take the usual ones out
        text, found = _COMMENT.subn(" ", text)
        if not found:
            break
    return text


def header_token(value: str | None) -> str:
    """The keyword of a structured header value, lower-cased: without comments, parameters
    (``; owner-email=…``), quotes and whitespace. ``auto-replied (vacation)`` →
    ``auto-replied``; ``Auto-Generated; owner-email="x@y"`` → ``auto-generated``."""
    if not value:
        return ""
    head = without_comments(value).split(";", 1)[0]
    return head.strip().strip('"').strip().lower()


def first_message_id(value: str | None) -> str | None:
    ids = message_ids(value)
    return ids[0] if ids else None


def message_id_domain(message_id: str) -> str:
    """The part after the last ``@`` of a Message-ID, lower-cased, without the bracket."""
    return message_id.strip("<> ").rpartition("@")[2].lower()


def pairs(items: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((name.lower(), value) for name, value in items)
