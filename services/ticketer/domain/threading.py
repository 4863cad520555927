"""Which stored record a mail belongs to: the lookups to make, in the order they win.

Threading a request or an auto-reply, the first lookup that finds a record wins: the record
token in the subject (a record of this mailbox; the raw MIME's decoded subject counts too),
then In-Reply-To and References (any message of a record, ours included), then Graph's
conversationId, then the record of the same requester created by a mail naming the same thread
root (the first References id: answers to a root the mailbox never received, which Gmail does
not thread together), and last a stored answer to this very mail (its reply came first and started
a record, which the mail joins). A bounce belongs to the record of the returned message.
Everything else is looked up nowhere. The store answers the lookups
(``services/ticketer/apply.py``); this module only says which, in what order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from libs.common.contracts import InboundEmail
from libs.common.record_token import find_record_token
from services.ticketer.domain.decode import decode_header_value
from services.ticketer.domain.facts import MailFacts
from services.ticketer.domain.threadkeys import thread_root
from services.ticketer.domain.verdict import Classification

LookupBy = Literal[
    "token", "message_ids", "conversation", "thread_root", "answered_by", "returned_message"
]


@dataclass(frozen=True)
class Lookup:
    """``token``: the record ``record_id`` if it is this mailbox's; ``message_ids``: the
    record holding any of ``ids``, earlier ids first; ``conversation``: the record last given
    a message of conversation ``ids[0]``; ``thread_root``: the first record of
    ``requester`` whose thread root is ``ids[0]``; ``answered_by``: the record of the first
    stored mail whose In-Reply-To is ``ids[0]``; ``returned_message``: the record of message
    ``ids[0]``."""

    by: LookupBy
    ids: tuple[str, ...] = ()
    record_id: int | None = None
    #: The sender's address (``thread_root`` only): a root joins one requester's mail.
    requester: str | None = None


def thread_ids(facts: MailFacts) -> list[str]:
    """In-Reply-To first, then References newest first: the closest ancestor wins."""
    return list(dict.fromkeys([*facts.in_reply_to, *reversed(facts.references)]))


def record_lookups(
    email: InboundEmail, facts: MailFacts, verdict: Classification, token_format: str
) -> tuple[Lookup, ...]:
    """The lookups naming the record a mail of this classification goes to, in order."""
    if verdict.kind in ("request", "auto_reply"):
        return _thread_lookups(email, facts, token_format)
    if verdict.kind == "bounce" and verdict.original_message_id:
        return (Lookup("returned_message", ids=(verdict.original_message_id,)),)
    return ()


def _thread_lookups(email: InboundEmail, facts: MailFacts, token_format: str) -> tuple[Lookup, ...]:
    found: list[Lookup] = []
    token = _subject_token(email, facts, token_format)
    if token is not None:
        found.append(Lookup("token", record_id=token))
    ids = thread_ids(facts)
    if ids:
        found.append(Lookup("message_ids", ids=tuple(ids)))
    if email.conversation_id:
        found.append(Lookup("conversation", ids=(email.conversation_id,)))
    root, sender = thread_root(email), email.from_ or email.sender
    if root is not None and sender is not None:
        found.append(Lookup("thread_root", ids=(root,), requester=sender.address))
    if facts.message_id:
        found.append(Lookup("answered_by", ids=(facts.message_id,)))
    return tuple(found)


def _subject_token(email: InboundEmail, facts: MailFacts, token_format: str) -> int | None:
    """The record token of the subject as the contract has it, else as the raw MIME has it
    (unfolded and decoded), else in an encoded word a gateway left undecoded."""
    for subject in (email.subject, facts.subject, decode_header_value(email.subject)):
        token = find_record_token(subject, token_format)
        if token is not None:
            return token
    return None
