"""The thread keys of a mail: what two mails of one thread have in common, so that two
ticketers never handle them at the same moment (the store locks the keys of a batch:
``services/ticketer/store/threadlocks.py``).

A mail's keys are its own Message-ID, the ids of its In-Reply-To and the first id of its
References (the thread's root), each in the canonical form threading uses, qualified by the
mailbox (threads never cross mailboxes). A request and its reply share the request's id; a
later reply shares the root (or its parent's id) with the rest of the thread.
"""

from __future__ import annotations

from collections.abc import Iterable

from libs.common.contracts import InboundEmail
from services.ticketer.domain.facts import first_message_id, message_ids


def thread_root(email: InboundEmail) -> str | None:
    """The root of the thread a mail answers: the first id of its References, else of its
    In-Reply-To; ``None`` for a mail that answers nothing. A record keeps the root of the
    mail that created it, so that a later answer naming the same root joins it even when the
    mailbox never received the root (the provider may not thread such answers together)."""
    headers = email.headers
    roots = [i for ref in headers.references[:1] for i in message_ids(ref)]
    return roots[0] if roots else first_message_id(headers.in_reply_to)


def thread_keys(email: InboundEmail) -> frozenset[str]:
    """``<mailbox> <message id>`` for each id that names this mail's thread."""
    headers = email.headers
    ids: list[str] = list(message_ids(headers.in_reply_to))
    own = first_message_id(email.internet_message_id)
    if own is not None:
        ids.append(own)
    roots = [i for ref in headers.references[:1] for i in message_ids(ref)]
    ids.extend(roots[:1])
    mailbox = email.mailbox.strip().lower()
    return frozenset(f"{mailbox} {mid}" for mid in ids)


def batch_thread_keys(emails: Iterable[InboundEmail]) -> frozenset[str]:
    """Every thread key of a batch, once."""
    return frozenset(key for email in emails for key in thread_keys(email))
