"""The MIME tree of received mail, the same for every provider: parsing with the nesting cut,
the body a mail program would show, and each leaf's bytes and text.

Parsing uses the email package's ``compat32`` policy by default: it keeps header values as
text and never runs the structured header parsers, which raise on some malformed headers (the
ticketer passes a lenient, bounded ``EmailPolicy`` of its own for RFC 2231 file names). Part
contents are decoded here (:mod:`libs.common.text.transfer`, :mod:`libs.common.text.charsets`),
not by the email package, which raises on an unknown charset label and replaces what it cannot
decode. The Graph simulator serves mail from this tree as Exchange does, and the Gmail
adapter reads Gmail's raw MIME through it, so both providers give the same text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from email.policy import Compat32, Policy
from typing import Any

from libs.common.text.charsets import decode_html, decode_text
from libs.common.text.headblock import mend_head
from libs.common.text.labels import codec_name
from libs.common.text.transfer import payload_bytes

#: Multipart and message/* parts nested deeper than this are one leaf each
#: (``application/octet-stream`` holding their raw content): the email package parses
#: nesting by recursion, and Python's stack ends near a thousand levels.
MAX_DEPTH = 64
_CUT_TYPE = "application/octet-stream"
_TOKEN_TYPE = re.compile(r"^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$")
_SPACE = re.compile(r"\s+")


class _Raw(Compat32):
    """``compat32`` that hands header values out as parsed: raw 8-bit octets stay (as lone
    surrogates) for :func:`libs.common.text.charsets.repair`, instead of becoming U+FFFD in
    a ``Header``."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value


POLICY = _Raw()
# An attached message is written back out unfolded, as it came.
_AS_RECEIVED = POLICY.clone(max_line_length=0)


class Part(Message):
    """A parsed part that knows its depth; too deep a container parses as a leaf."""

    depth = 0

    def attach(self, payload: Any) -> None:
        # The parser attaches each part to its parent before reading the part's headers,
        # so the depth is known when the part's type decides whether to descend.
        if isinstance(payload, Part):
            payload.depth = self.depth + 1
        super().attach(payload)

    @property
    def cut(self) -> bool:
        """A container too deep to descend into: served as one leaf, headers and all."""
        declared = super().get_content_type()
        return self.depth >= MAX_DEPTH and declared.split("/")[0] in ("multipart", "message")

    def get_content_type(self) -> str:
        declared = _SPACE.sub("", super().get_content_type())
        if self.cut or not _TOKEN_TYPE.match(declared):
            return _CUT_TYPE
        return declared


def parse_tree(raw: bytes, policy: Policy = POLICY) -> Part:
    """Any bytes as a message tree, however deep the nesting and however odd the header block
    (:func:`~.headblock.mend_head`); ``policy``: the email package's header policy (the
    default keeps raw 8-bit header octets for repair)."""
    msg = message_from_bytes(mend_head(raw), _class=Part, policy=policy)
    assert isinstance(msg, Part)
    return msg


def disposition(part: Message) -> str | None:
    try:
        value = part.get_content_disposition()
    except Exception:  # a malformed Content-Disposition is no disposition
        return None
    return value if isinstance(value, str) else None


def children(part: Message) -> list[Part]:
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Part)] if isinstance(payload, list) else []


def is_container(part: Message) -> bool:
    return part.get_content_maintype() == "multipart" and part.is_multipart()


def _candidates(part: Part, prefs: tuple[str, ...]) -> Iterator[tuple[int, Part]]:
    """Body candidates in the order ``EmailMessage.get_body`` considers them."""
    if disposition(part) == "attachment":
        return
    maintype, subtype = part.get_content_maintype(), part.get_content_subtype()
    if maintype == "text":
        if subtype in prefs:
            yield prefs.index(subtype), part
        return
    if not is_container(part):
        return
    found = children(part)
    if subtype == "related" and found:
        start = str(part.get_param("start") or "").strip()
        chosen = next((c for c in found if start and str(c.get("content-id")) == start), None)
        yield from _candidates(chosen or found[0], prefs)
        return
    for child in found:
        yield from _candidates(child, prefs)


def find_body(msg: Part, prefs: tuple[str, ...]) -> Part | None:
    """The first part of the most preferred subtype (``("html", "plain")``: HTML first)."""
    best, found = len(prefs), None
    for rank, part in _candidates(msg, prefs):
        if rank < best:
            best, found = rank, part
            if rank == 0:
                break
    return found


def leaves(part: Part) -> Iterator[Part]:
    """Leaf parts; an attached message or a report's status part counts as one leaf."""
    if is_container(part):
        for child in children(part):
            yield from leaves(child)
    else:
        yield part


def content(part: Part) -> bytes:
    """A leaf's bytes, transfer encoding undone (:func:`~.transfer.payload_bytes`)."""
    if part.cut:
        return as_received(part)
    if part.get_content_maintype() == "message":
        # message/* bodies are parsed into messages: an attached mail (rfc822) or the
        # header blocks of a report (delivery-status, disposition-notification).
        inner = part.get_payload()
        if isinstance(inner, list):
            return b"\n".join(as_received(block) for block in inner)
        return str(inner).encode("utf-8", "surrogateescape")
    return payload_bytes(part)


def as_received(block: object) -> bytes:
    """A parsed message or part written back out as it came (b"" for anything else)."""
    if not isinstance(block, Message):
        return b""
    try:
        return block.as_bytes(policy=_AS_RECEIVED)
    except Exception:  # the generator chokes on some malformed parts; keep what is there
        return str(block.get_payload()).encode("utf-8", "surrogateescape")


def declared_charset(part: Message) -> str | None:
    try:
        charset = part.get_content_charset(None)
    except Exception:  # a charset parameter the email package cannot read is none
        return None
    return charset if codec_name(charset) else None


def text_of(part: Part, hint: str | None = None) -> str:
    """A text part's content: its declared charset (an HTML part's ``<meta>`` one when the
    MIME header names none), else UTF-8, else detection."""
    decode = decode_html if part.get_content_subtype() == "html" else decode_text
    return decode(content(part), declared_charset(part), hint)


def body_of(msg: Part) -> tuple[Part | None, Part | None, str | None]:
    """(the body part, HTML preferred; the plain text part; the charset the mail declares for
    its text, which a part without a usable label of its own is tried in)."""
    body_part = find_body(msg, ("html", "plain"))
    text_part = find_body(msg, ("plain",))
    hint = next(
        (c for p in (body_part, text_part, msg) if p is not None and (c := declared_charset(p))),
        None,
    )
    return body_part, text_part, hint
