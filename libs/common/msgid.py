"""Our own Message-IDs: deterministic per job, in a domain the ticketer recognises as ours.

Scheme: ``<{hash}@{domain}>`` where ``hash`` is the first 32 hex digits of
sha256(mailbox + LF + job_id) and ``domain`` defaults to ``mailpipe.<mailbox's domain>``.
Deterministic on purpose: before any send of a job that may already have gone out, the sender
looks for this Message-ID in Sent Items (docs/sending.md, "The duplicate window"); and should a
job still go out twice, both copies carry the same Message-ID, so mail clients and the
ticketer's (mailbox, internetMessageId) uniqueness collapse them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from libs.common.errors import ConfigError

#: A dotted ASCII host name; the Message-ID domain need not resolve, but must look like one.
_DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9-]{1,63})+$"
)


def default_message_id_domain(mailbox: str) -> str:
    """``mailpipe.<domain of the mailbox>``: unique to us and aligned with the sender's domain."""
    domain = mailbox.rpartition("@")[2].lower()
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ConfigError(
            f"cannot derive a Message-ID domain from mailbox {mailbox!r}",
            hint="set the mailbox's Message-ID domain explicitly to an ASCII host name",
        ) from None
    return check_message_id_domain(f"mailpipe.{domain}")


def check_message_id_domain(domain: str) -> str:
    domain = domain.strip().lower()
    if not _DOMAIN_RE.match(domain):
        raise ConfigError(
            f"Message-ID domain {domain!r} is not a dotted ASCII host name",
            hint="use a name such as mailpipe.contoso.com",
        )
    return domain


def job_hash(mailbox: str, job_id: str) -> str:
    digest = hashlib.sha256(f"{mailbox.lower()}\n{job_id}".encode()).hexdigest()
    return digest[:32]


def make_message_id(mailbox: str, job_id: str, domain: str) -> str:
    """The Message-ID a job is sent with, angle brackets included."""
    return f"<{job_hash(mailbox, job_id)}@{check_message_id_domain(domain)}>"


#: The longest Message-ID kept as it is, brackets included, in UTF-8 bytes: what one header
#: line, every contract field and every table column and index can hold (RFC 5322's 998-octet
#: line; PostgreSQL's btree rows stop near 2,700 bytes, which 998 CJK characters would pass).
MAX_MESSAGE_ID_BYTES = 998
MAX_MESSAGE_ID_CHARS = MAX_MESSAGE_ID_BYTES  # the same bound in characters (ASCII ids)
#: Longer ids (seen in the wild: 1,500 characters) become a digest in this reserved domain.
LONG_ID_DOMAIN = "long-id.mailpipe.invalid"
# What a msg-id cannot contain (RFC 5322 has no white space or control in it): C0 and C1
# controls, including the line breaks Python's email package splits on, white space, lone
# surrogates and the non-characters U+FFFE/U+FFFF (the header rule's set, docs/publishing-jobs.md).
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\xa0\u2028\u2029\ud800-\udfff\ufffe\uffff]|\s")
_BRACKETED = re.compile(r"<([^<>]*)>")


def canonical_message_id(value: str | None) -> str | None:
    """THE form of a Message-ID everywhere: contracts, tables, look-ups, comparisons.

    The first ``<…>`` of the value (else the value without its comments), white space and
    control characters dropped, in angle brackets; ``None`` when nothing is left. So
    ``<a@b> (sent by X)``, `` a@b `` and ``<a\tb@c>`` unfolded to ``<a b@c>`` each have one
    form. An id longer than :data:`MAX_MESSAGE_ID_BYTES` becomes
    ``<sha256…@long-id.mailpipe.invalid>`` (deterministic, so the same long id in a later
    References header still matches) instead of being cut, which would leave an id that no
    longer ends in ``>`` and that each later step would "repair" differently.
    """
    if value is None:
        return None
    return _canonical_inner(_first_id(value))


def _first_id(value: str) -> str:
    for inner in _BRACKETED.findall(value):
        if _UNSAFE.sub("", inner):
            return inner
    return _drop_comments(value, "").strip().strip("<>")


def _canonical_inner(inner: str) -> str | None:
    inner = _UNSAFE.sub("", inner)
    if not inner:
        return None
    canonical = f"<{inner}>"
    if len(canonical.encode("utf-8", "surrogatepass")) <= MAX_MESSAGE_ID_BYTES:
        return canonical
    digest = hashlib.sha256(inner.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"<{digest}@{LONG_ID_DOMAIN}>"


def normalise_message_id(value: str) -> str | None:
    """``<id@host>`` from a bracketed or bare id; ``None`` when it is not a msg-id."""
    value = value.strip()
    if _BRACKETED.fullmatch(value) or (value and "@" in value and "<" not in value):
        return canonical_message_id(value)
    return None


_SEGMENTS = re.compile(r"(<[^<>]*>)")
# What separates bare ids ("a@b,c@d", "a@b c@d") once comments are out.
_SEPARATORS = re.compile(r"[\s,;()<>]+")


def split_message_ids(value: str) -> list[str]:
    """Every msg-id in a header-like value, each in its canonical form, once, in order.

    As clients really write References: bracketed ids (``<a@b> <c@d>``), separated by white
    space, folds or commas, bare ids without brackets (``a@b c@d``, ``a@b,c@d``) and a mixture
    of both; comments between them are skipped.
    """
    found: list[str | None] = []
    for index, segment in enumerate(_SEGMENTS.split(value)):
        if index % 2:  # a bracketed id
            found.append(_canonical_inner(segment[1:-1]))
            continue
        words = _SEPARATORS.split(_drop_comments(segment, " "))
        found.extend(_canonical_inner(word) for word in words if "@" in word)
    return list(dict.fromkeys(m for m in found if m))


def _drop_comments(text: str, replacement: str) -> str:
    """``text`` with each parenthesised comment, nested ones included, replaced; an
    unclosed parenthesis stays. One pass (a comment-by-comment regex loop is quadratic in
    the nesting depth)."""
    open_at: list[int] = []
    spans: list[tuple[int, int]] = []
    for index, char in enumerate(text):
        if char == "(":
            open_at.append(index)
        elif char == ")" and open_at:
            start = open_at.pop()
            while spans and spans[-1][0] > start:  # the comments nested in this one
                spans.pop()
            spans.append((start, index + 1))
    if not spans:
        return text
    parts, last = [], 0
    for start, end in spans:
        parts += [text[last:start], replacement]
        last = end
    parts.append(text[last:])
    return "".join(parts)


def is_our_message_id(message_id: str | None, domain: str | Iterable[str]) -> bool:
    """True when ``message_id`` was made by mailpipe for ``domain`` (or any of several).

    The ticketer uses this to spot its own mail coming back (loops) and replies to it.
    """
    if not message_id:
        return False
    mid = normalise_message_id(message_id)
    if mid is None:
        return False
    local, _, host = mid[1:-1].rpartition("@")
    domains = {domain.lower()} if isinstance(domain, str) else {d.lower() for d in domain}
    return bool(local) and host.lower() in domains
