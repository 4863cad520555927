"""One mail of the real-world corpus test, and what the raw bytes alone say about it.

A :class:`Sample` is raw bytes plus what must hold whatever the pipeline does with it:

- ``kind``: ``request`` (a person's mail: it becomes a record or joins one), ``automatic`` (a
  bounce, auto-reply, feedback report or delivery notice: never a record of its own, never
  acknowledged) or ``any`` (only "accounted for" is certain);
- ``subject`` / ``body``: text the stored message must have (the subject exactly, the body as
  a substring), for mails whose decoding is certain.

:func:`raw_facts` reads the raw bytes the way the checks need them (the Message-ID, the From
and Reply-To addresses, a null Return-Path, whether every text part had a charset that decodes
it cleanly), with the standard library and without trusting the mail to be well formed: a
mail the parser chokes on simply yields fewer facts.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.header import decode_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from typing import Literal

from libs.common.msgid import canonical_message_id

Kind = Literal["request", "automatic", "any"]
#: A Message-ID the checks compare one to one: ``<local@domain>`` in printable ASCII.
_PLAIN_ID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]+@[\x21-\x3b\x3d\x3f-\x7e]+>")
_SPACE = re.compile(r"\s+")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
#: An ``=`` in quoted-printable that is neither an escape nor a soft line break.
_BROKEN_QP = re.compile(r"=(?![0-9A-Fa-f]{2}|\r?\n|$)")
#: Control characters a store may replace: text carrying them is not "clean".
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Sample:
    name: str
    raw: bytes = field(repr=False)
    kind: Kind = "any"
    subject: str | None = None
    body: str | None = None
    note: str = ""


@dataclass(frozen=True)
class RawFacts:
    #: Canonical Message-ID when the mail has a plain one (``None`` otherwise).
    message_id: str | None
    from_address: str
    reply_to: tuple[str, ...]
    null_sender: bool
    #: Every header word and text part names a charset that decodes it without loss.
    clean_text: bool
    #: (sender, subject, body) as a reader sees them: equal keys mean copies of one mail.
    copy_key: tuple[str, str, str]
    #: Digest of the body bytes (line endings aside): with the same Message-ID, sender and
    #: subject, the very same mail delivered again.
    body_digest: str


def raw_facts(raw: bytes) -> RawFacts:
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
    return RawFacts(
        message_id=_message_id(headers),
        from_address=_first_address(headers.get_all("From") or []),
        reply_to=tuple(_addresses(headers.get_all("Reply-To") or [])),
        null_sender=any(str(v).strip() == "<>" for v in headers.get_all("Return-Path") or []),
        clean_text=_clean_headers(raw, headers) and _clean_parts(raw),
        copy_key=_copy_key(raw, headers),
        body_digest=hashlib.sha256(_raw_body(raw).replace(b"\r\n", b"\n")).hexdigest(),
    )


def _message_id(headers: Message) -> str | None:
    value = headers.get("Message-ID")
    if value is None:
        return None
    text = str(value).strip()
    return canonical_message_id(text) if _PLAIN_ID.fullmatch(text) else None


def _addresses(values: Sequence[object]) -> list[str]:
    found = getaddresses([str(v) for v in values])
    return [addr.strip().lower() for _, addr in found if "@" in addr]


def _first_address(values: Sequence[object]) -> str:
    found = _addresses(values)
    return found[0] if found else ""


def _clean_headers(raw: bytes, headers: Message) -> bool:
    """Subject and From decode without loss: raw 8-bit only as valid UTF-8, encoded words in a
    charset Python knows."""
    head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    try:
        if _CONTROLS.search(head.decode("utf-8")):
            return False
    except UnicodeDecodeError:
        return False
    for name in ("Subject", "From"):
        for value in headers.get_all(name) or []:
            try:
                for chunk, charset in decode_header(str(value)):
                    if isinstance(chunk, bytes) and charset:
                        text = chunk.decode(charset)
                        if "\ufffd" in text:
                            return False
            except (LookupError, UnicodeError, ValueError):
                return False
    return True


def _clean_parts(raw: bytes) -> bool:
    """Every text/* leaf has an intact transfer encoding and names a charset that decodes it
    strictly (or is plain ASCII)."""
    try:
        message = message_from_bytes(raw, policy=policy.compat32)
        parts = [p for p in message.walk() if not p.is_multipart()]
        for part in parts:
            if part.get_content_maintype() != "text":
                continue
            payload = _strict_payload(part)
            if payload is None:
                return False
            charset = part.get_content_charset()
            codecs.lookup(charset or "ascii")
            text = payload.decode(charset or "ascii")
            if "\ufffd" in text or _CONTROLS.search(text):
                return False
    except (LookupError, UnicodeError, ValueError, RecursionError, AssertionError):
        return False
    return True


def _strict_payload(part: Message) -> bytes | None:
    """The decoded payload, or ``None`` when its transfer encoding is unknown or broken (what
    a decoder makes of broken base64 or quoted-printable is its own choice)."""
    encoded = part.get_payload(decode=False)
    if not isinstance(encoded, str):
        return None
    cte = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
    if cte == "base64":
        try:
            base64.b64decode("".join(encoded.split()), validate=True)
        except ValueError:
            return None
    elif cte == "quoted-printable":
        if _BROKEN_QP.search(encoded):
            return None
    elif cte not in ("7bit", "8bit", "binary"):
        return None
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else None


def _raw_body(raw: bytes) -> bytes:
    end = _HEADER_END.search(raw)
    return raw[end.end() :] if end else b""


def _copy_key(raw: bytes, headers: Message) -> tuple[str, str, str]:
    sender = _first_address(headers.get_all("From") or [])
    try:
        message = message_from_bytes(raw, policy=policy.default)
        subject = str(message.get("Subject", ""))
        part = message.get_body(("plain", "html"))
        body = str(part.get_content()) if part is not None else ""
    except Exception:  # any mail the parser chokes on: compare its raw text instead
        subject = str(headers.get("Subject", ""))
        body = _raw_body(raw).decode("latin-1")
    return sender, _SPACE.sub(" ", subject).strip(), _SPACE.sub(" ", body).strip()
