"""Loop detection and the ``ignore_senders`` list: who sent a mail, and are they us."""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase

from services.ticketer.domain.facts import MailFacts, message_id_domain


def loop_reason(facts: MailFacts, *, mailbox: str, own_message_id_domain: str) -> str | None:
    """Why a mail is one of ours coming back, or ``None``.

    Only the mail's *own* identity counts: a customer's reply carries our Message-ID in
    In-Reply-To/References and is a request, never a loop.
    """
    box = mailbox.strip().lower()
    senders = [a.address.lower() for a in (facts.from_, facts.sender) if a is not None]
    if box and box in senders:
        return "from_self"
    if any(name.startswith("x-mailpipe-") for name, _ in facts.headers):
        return "x_mailpipe_header"
    domain = own_message_id_domain.strip().lower()
    if domain and facts.message_id and message_id_domain(facts.message_id) == domain:
        return "own_message_id"
    if box and any(box in value.lower() for value in facts.header_all("x-loop")):
        return "x_loop"
    return None


def ignore_reason(facts: MailFacts, patterns: Sequence[str]) -> str | None:
    """``ignore_senders:<pattern>`` for the first pattern the From address matches.

    Patterns, case-insensitive: ``user@example.com`` (that address), ``@example.com`` (that
    domain), ``*.example.com`` or ``example.*`` (shell patterns on the domain; the bare parent
    domain is not matched by ``*.``), ``*@example.com`` / ``noreply*@*`` (on the address).
    """
    if facts.from_ is None or "@" not in facts.from_.address:
        return None
    address = facts.from_.address.strip().lower()
    domain = address.rpartition("@")[2]
    for pattern in patterns:
        if sender_matches(address, domain, pattern.strip().lower()):
            return f"ignore_senders:{pattern.strip()}"
    return None


def sender_matches(address: str, domain: str, pattern: str) -> bool:
    if not pattern:
        return False
    if pattern.startswith("@"):
        return fnmatchcase(domain, pattern[1:])
    if "@" in pattern:
        return fnmatchcase(address, pattern)
    return fnmatchcase(domain, pattern)
