"""Who an automatic acknowledgement may go to (docs/ticketer.md, "Auto-acknowledgement").

Only to the ``From`` address: ``Reply-To`` names whoever the sender likes, so answering it
automatically turns the mailbox into a relay for backscatter. And never to us: not to any
address at one of our own domains (the mailboxes', the agents' send-as addresses', our
Message-ID domain) or a subdomain, nor to a domain made to look like one of them
(:mod:`services.ticketer.domain.lookalike`). Machine senders (``MAILER-DAEMON``, ``noreply``,
list ``-request``/``owner-`` addresses, RFC 3834 section 2) get none either.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from services.ticketer.domain.lookalike import closest, mail_domain, strip_ignorable

_MACHINE_LOCAL = re.compile(
    r"^(?:mailer[-_.]?daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply|noreply[-+.].*|"
    r"bounces?|bounces?[-+].*|owner-.*|.*-owner|.*-request|listserv|majordomo)$",
    re.IGNORECASE,
)

#: "@" and the characters that read as one (NFKC): full-width and small commercial at.
_AT_SIGNS = ("@", "\uff20", "\ufe6b")


@dataclass(frozen=True)
class AckRefusal:
    """Why no acknowledgement goes out: ``reason`` is a short fixed word (a metric label),
    ``detail`` says more for the log (the own domain a lookalike imitates, …)."""

    reason: str
    detail: str = ""


def own_domains(addresses: Iterable[str], domains: Iterable[str] = ()) -> tuple[str, ...]:
    """Our domains: those of ``addresses`` (mailboxes, send-as agents) and ``domains``."""
    found = [a.rpartition("@")[2] for a in addresses if "@" in a] + list(domains)
    return tuple(dict.fromkeys(d.strip().rstrip(".").lower() for d in found if d.strip()))


def ack_refusal(address: str | None, owns: Iterable[str]) -> AckRefusal | None:
    """``None`` when an acknowledgement may go to ``address`` (the mail's From); else why not."""
    if address is None or not address.strip():
        return AckRefusal("no_from")
    # Judged as read, not as written: a full-width at sign splits too, and an IDNA dot or an
    # invisible character must not hide a name (docs/ticketer.md). The domain goes on as
    # written, so that a disguised spelling of ours is told from ours (lookalike.resemblance).
    at = max(address.rfind(sign) for sign in _AT_SIGNS)
    local, domain = _fold(address[:at]).strip('" '), address[at + 1 :]
    if at < 0 or not local or "." not in mail_domain(domain).strip("."):
        return AckRefusal("not_an_address")
    match = closest(domain, owns)
    if match is not None:
        relation, own = match
        return AckRefusal(relation, own)
    if _MACHINE_LOCAL.match(local):
        return AckRefusal("machine_sender", local)
    return None


def colleague_refusal(
    address: str | None, owns: Iterable[str], domain: str, mailboxes: Iterable[str]
) -> AckRefusal | None:
    """:func:`ack_refusal` for a mailbox that answers colleagues (``auto_ack_own_domain``):
    an address at exactly ``domain`` may be answered, unless it is one of ``mailboxes``
    (compared as a mail system reads them: invisible characters gone, NFKC, casefolded) or a
    machine sender. Subdomains and lookalikes are refused as always."""
    refusal = ack_refusal(address, owns)
    if refusal is None or address is None or refusal.reason != "own_domain":
        return refusal
    if mail_domain(address.strip().rpartition("@")[2]) != mail_domain(domain):
        return refusal
    if _read(address) in {_read(m) for m in mailboxes}:
        return refusal
    return ack_refusal(address, ())


def _read(address: str) -> str:
    """An address as a mail system reads it (see :func:`mail_domain`)."""
    local, _, domain = address.strip().rpartition("@")
    return f"{_fold(local)}@{mail_domain(domain)}"


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", strip_ignorable(text)).strip().casefold()
