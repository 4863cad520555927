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
from collections.abc import Iterable
from dataclasses import dataclass

from services.ticketer.domain.lookalike import closest

_MACHINE_LOCAL = re.compile(
    r"^(?:mailer[-_.]?daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply|noreply[-+.].*|"
    r"bounces?|bounces?[-+].*|owner-.*|.*-owner|.*-request|listserv|majordomo)$",
    re.IGNORECASE,
)


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
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or "." not in domain.strip("."):
        return AckRefusal("not_an_address")
    match = closest(domain, owns)
    if match is not None:
        relation, own = match
        return AckRefusal(relation, own)
    if _MACHINE_LOCAL.match(local.strip('"')):
        return AckRefusal("machine_sender", local.lower())
    return None
