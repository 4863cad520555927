"""Raw mail written byte by byte, for the generated worst cases (``worst_mail.py``,
``oddities.py``): :mod:`email` would repair what these cases must keep broken."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from tests.e2e.samples import Kind, Sample

CRLF = b"\r\n"
SENDER = "Pat Customer <pat@customer.example>"
MAILBOX = "support@contoso.com"
Header = tuple[str, bytes | str]


def build(headers: Sequence[Header], body: bytes = b"", *, eol: bytes = CRLF) -> bytes:
    """Header lines as given (``str`` must be ASCII; ``bytes`` go in raw), a blank line, body."""
    lines = [
        name.encode() + b": " + (value if isinstance(value, bytes) else value.encode())
        for name, value in headers
    ]
    return eol.join(lines) + eol + eol + body


def std(
    slug: str, subject: str | bytes, *, sender: str | bytes = SENDER, more: Sequence[Header] = ()
) -> list[Header]:
    """The headers of an ordinary mail to the mailbox, Message-ID ``<slug@worst.example>``."""
    return [
        ("From", sender),
        ("To", MAILBOX),
        ("Subject", subject),
        ("Date", "Tue, 01 Dec 2026 09:30:00 +0100"),
        ("Message-ID", f"<{slug}@worst.example>"),
        ("MIME-Version", "1.0"),
        *more,
    ]


def text_mail(
    slug: str,
    subject: str | bytes,
    body: bytes,
    content_type: str | None = "text/plain; charset=utf-8",
    cte: str | None = "8bit",
    *,
    sender: str | bytes = SENDER,
    more: Sequence[Header] = (),
) -> bytes:
    """A single-part mail; ``content_type``/``cte`` ``None`` leave the header out."""
    extra = list(more)
    if content_type is not None:
        extra.append(("Content-Type", content_type))
    if cte is not None:
        extra.append(("Content-Transfer-Encoding", cte))
    return build(std(slug, subject, sender=sender, more=extra), body)


def multipart(slug: str, subject: str, parts: Sequence[bytes], subtype: str = "mixed") -> bytes:
    """``parts`` are each a part's header lines, a blank line and its body (boundary ``B``)."""
    body = b"".join(b"--B\r\n" + part + b"\r\n" for part in parts) + b"--B--\r\n"
    content_type = f'multipart/{subtype}; boundary="B"'
    return build(std(slug, subject, more=[("Content-Type", content_type)]), body)


def encoded_word(text: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def sample(
    slug: str,
    raw: bytes,
    kind: Kind = "any",
    subject: str | None = None,
    body: str | None = None,
    note: str = "",
) -> Sample:
    return Sample(f"worst/{slug}", raw, kind, subject, body, note)
