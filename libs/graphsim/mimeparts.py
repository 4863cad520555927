"""The MIME tree of received mail: parsing with the nesting cut, the body, the attachments.

Parsing uses the email package's ``compat32`` policy: it keeps header values as text and
never runs the structured header parsers, which raise on some malformed headers. Part
contents are decoded here (see :mod:`libs.common.text.charsets`), not by the email package,
which raises on an unknown charset label and replaces what it cannot decode.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from email.policy import Compat32
from typing import Any

from libs.common.text.charsets import decode_html, decode_text, decode_words, repair
from libs.common.text.labels import codec_name

#: Multipart and message/* parts nested deeper than this are served as one leaf each
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


def parse_tree(raw: bytes) -> Part:
    msg = message_from_bytes(raw, _class=Part, policy=POLICY)
    assert isinstance(msg, Part)
    return msg


def _disposition(part: Part) -> str | None:
    value = part.get_content_disposition()
    return value if isinstance(value, str) else None


def _children(part: Part) -> list[Part]:
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Part)] if isinstance(payload, list) else []


def _is_container(part: Part) -> bool:
    return part.get_content_maintype() == "multipart" and part.is_multipart()


def _candidates(part: Part, prefs: tuple[str, ...]) -> Iterator[tuple[int, Part]]:
    """Body candidates in the order ``EmailMessage.get_body`` considers them."""
    if _disposition(part) == "attachment":
        return
    maintype, subtype = part.get_content_maintype(), part.get_content_subtype()
    if maintype == "text":
        if subtype in prefs:
            yield prefs.index(subtype), part
        return
    if not _is_container(part):
        return
    children = _children(part)
    if subtype == "related" and children:
        start = str(part.get_param("start") or "").strip()
        chosen = next((c for c in children if start and str(c.get("content-id")) == start), None)
        yield from _candidates(chosen or children[0], prefs)
        return
    for child in children:
        yield from _candidates(child, prefs)


def find_body(msg: Part, prefs: tuple[str, ...]) -> Part | None:
    best, found = len(prefs), None
    for rank, part in _candidates(msg, prefs):
        if rank < best:
            best, found = rank, part
            if rank == 0:
                break
    return found


def leaves(part: Part) -> Iterator[Part]:
    """Leaf parts; an attached message or a report's status part counts as one leaf."""
    if _is_container(part):
        for child in _children(part):
            yield from leaves(child)
    else:
        yield part


def content(part: Part) -> bytes:
    """A leaf's bytes, transfer encoding undone; an unknown encoding leaves them as sent."""
    if part.cut:
        return _as_bytes(part)
    if part.get_content_maintype() == "message":
        # message/* bodies are parsed into messages: an attached mail (rfc822) or the
        # header blocks of a report (delivery-status, disposition-notification).
        inner = part.get_payload()
        if isinstance(inner, list):
            return b"\n".join(_as_bytes(block) for block in inner)
        return str(inner).encode("utf-8", "surrogateescape")
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _as_bytes(block: object) -> bytes:
    if not isinstance(block, Message):
        return b""
    try:
        return block.as_bytes(policy=_AS_RECEIVED)
    except Exception:  # the generator chokes on some malformed parts; keep what is there
        return str(block.get_payload()).encode("utf-8", "surrogateescape")


def declared_charset(part: Part) -> str | None:
    charset = part.get_content_charset(None)
    return charset if codec_name(charset) else None


def text_of(part: Part, hint: str | None = None) -> str:
    """A text part's content: its declared charset (an HTML part's ``<meta>`` one when the
    MIME header names none), else UTF-8, else detection."""
    decode = decode_html if part.get_content_subtype() == "html" else decode_text
    return decode(content(part), declared_charset(part), hint)


def _filename(part: Part, hint: str | None) -> str | None:
    try:
        name = part.get_filename()
    except (LookupError, ValueError):
        return None
    if not isinstance(name, str) or not name.strip():
        return None
    return decode_words(repair(name, hint), hint).strip() or None


def attachments(msg: Part, skip: set[int], received: str, hint: str | None) -> list[dict]:
    """fileAttachment JSON for every leaf that is not the body."""
    out: list[dict[str, Any]] = []
    for part in leaves(msg):
        if id(part) in skip:
            continue
        data = content(part)
        disposition = _disposition(part)
        cid = repair(str(part.get("Content-ID") or ""), hint).strip().strip("<>") or None
        name = _filename(part, hint) or f"ATT{len(out) + 1:05d}.{part.get_content_subtype()}"
        out.append(
            {
                "@odata.type": "#microsoft.graph.fileAttachment",
                "id": base64.urlsafe_b64encode(uuid.uuid4().bytes * 2).decode(),
                "lastModifiedDateTime": received,
                "name": name,
                "contentType": part.get_content_type(),
                "size": len(data),
                "isInline": disposition == "inline" or (disposition is None and bool(cid)),
                "contentId": cid,
                "contentLocation": None,
                "contentBytes": base64.b64encode(data).decode(),
            }
        )
    return out
