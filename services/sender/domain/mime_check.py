"""Read a built message back before it is sent: every header once, as the job gave it.

The contract already refuses line breaks and RFC 2047 encoded words in what a job puts into a
header; this is the second wall. Python's email package parses what it is given (it decodes
encoded words, folds, quotes), so the only proof that no header was injected or changed is
to parse the bytes we would send and compare them with what we meant to write.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage, Message
from typing import Any

from libs.common.errors import PermanentError

#: RFC 5322 2.1.1: a line is at most 998 octets, CRLF excluded.
MAX_LINE_OCTETS = 998
#: Headers the email package adds for the MIME structure; each at most once.
_STRUCTURAL = frozenset({"mime-version", "content-type", "content-transfer-encoding"})
#: Headers a body part may carry (the builder writes nothing else into parts); each once.
_PART_HEADERS = frozenset(
    {"content-type", "content-transfer-encoding", "content-disposition", "content-id"}
)

#: Written literally (msg-id lists, never decoded by a reader that knows them): compared as
#: raw text, or as decoded text when non-ASCII ids had to be encoded.
_LITERAL = frozenset({"in-reply-to", "references"})

UNSAFE_HEADERS_CODE = "header_not_writable"


class UnsafeHeaders(PermanentError):
    """The job's header values cannot be written so that they read back unchanged."""

    code = UNSAFE_HEADERS_CODE

    def __init__(self, message: str) -> None:
        super().__init__(
            message,
            hint="send header text as plain text (no =?…?= encoded words, no line breaks) and "
            "keep names and file names under 900 characters, then publish under a new job_id",
        )


@dataclass
class Intended:
    """What the builder meant to write: header values and attachment file names, in order."""

    #: (lower-case name, value); an address header's value is its ``(name, addr-spec)`` list.
    headers: list[tuple[str, Any]] = field(default_factory=list)
    filenames: list[str] = field(default_factory=list)


def _squeeze(text: object) -> str:
    # Folding and unfolding may move white space (the email package even splits a long run of
    # astral characters with a space); nothing else may change.
    return "".join(str(text).split())


def _same_text(got: object, want: str) -> bool:
    return _squeeze(got) == _squeeze(want)


def _address_pairs(header: Any) -> list[tuple[str, str]]:
    return [(_squeeze(a.display_name), a.addr_spec) for a in header.addresses]


def _check_lines(mime: bytes) -> str | None:
    for number, line in enumerate(mime.split(b"\r\n"), 1):
        if len(line) > MAX_LINE_OCTETS:
            return (
                f"line {number} of the message would be {len(line)} octets, over the "
                f"{MAX_LINE_OCTETS} RFC 5322 allows (a name or word too long to fold)"
            )
    return None


def _check_header(parsed: EmailMessage, raw: Message, name: str, want: Any) -> str | None:
    got = parsed[name]
    if name in _LITERAL and _same_text(raw[name], want):
        return None
    if isinstance(want, list):
        wanted = [(_squeeze(n), spec) for n, spec in want]
        if _address_pairs(got) != wanted:
            return f"the {name} header would not read back as given"
    elif not _same_text(got, want):
        return f"the {name} header would read back as {str(got)[:80]!r}, not as given"
    return None


def _check_names(parsed: EmailMessage, intended: Intended) -> str | None:
    names = Counter(k.lower() for k in parsed)
    structural = {n: c for n, c in names.items() if n in _STRUCTURAL}
    if any(c > 1 for c in structural.values()):
        return "the message would carry a MIME header twice"
    wanted = Counter(n for n, _ in intended.headers)
    got = Counter({n: c for n, c in names.items() if n not in _STRUCTURAL})
    if got != wanted:
        extra = sorted((got - wanted) | (wanted - got))
        return f"the header block would not be the one the job asked for ({', '.join(extra)})"
    for part in list(parsed.walk())[1:]:
        inner = Counter(k.lower() for k in part)
        if any(n not in _PART_HEADERS or c > 1 for n, c in inner.items()):
            return "a body part would carry a header the builder did not write"
    return None


def _check_filenames(parsed: EmailMessage, want: Sequence[str]) -> str | None:
    # Inline images sit in the related part, before the attachments: compare as multisets.
    got = Counter(_squeeze(p.get_filename()) for p in parsed.walk() if p.get_filename())
    if got != Counter(_squeeze(w) for w in want):
        return "an attachment's file name would not read back as given"
    return None


def mime_problem(mime: bytes, intended: Intended) -> str | None:
    """Why ``mime`` is not the message ``intended`` describes, or ``None`` when it is."""
    problem = _check_lines(mime)
    if problem is not None:
        return problem
    try:
        parsed = message_from_bytes(mime, policy=email_policy.default)
        assert isinstance(parsed, EmailMessage)
        raw = message_from_bytes(mime, policy=email_policy.compat32)
        problem = _check_names(parsed, intended) or _check_filenames(parsed, intended.filenames)
        for name, want in intended.headers:
            problem = problem or _check_header(parsed, raw, name, want)
    except Exception as exc:  # whatever the parser trips on, the message is not sent
        return f"the message would not read back ({type(exc).__name__})"
    return problem
