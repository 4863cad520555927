"""``Decision``: what the ticketer makes of one email, as plain data (docs/ticketer.md, "One
inbound email").

:func:`services.ticketer.domain.plan.plan` makes it, ``services/ticketer/apply.py`` stores it
(the outcome, and beside it the RecordEvent ``change`` and the acknowledgement intent),
``services/ticketer/effects.py`` derives what to publish from what was stored. The
acknowledgement intent is stored as a short string (:func:`stored_ack`,
:func:`ack_from_stored`) so that a redelivery answers as the first delivery did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.ticketer.domain.verdict import Classification

#: What a RecordEvent says happened to its record.
Change = Literal["new_request", "reply", "auto_reply", "delivery_failure", "outbound"]
#: The kind an appended inbound message is stored as (and the change announcing it).
AppendKind = Literal["reply", "auto_reply", "delivery_failure"]


@dataclass(frozen=True)
class Create:
    """A new record holding the mail as its request; ``thread_root``: the root of the thread
    it answers (:func:`services.ticketer.domain.threadkeys.thread_root`), kept on the record."""

    thread_root: str | None = None


@dataclass(frozen=True)
class Append:
    """The mail goes onto ``record_id`` as a message of ``kind``."""

    record_id: int
    kind: AppendKind
    #: A reply needs attention again; an out-of-office answer or a bounce does not.
    reopen: bool
    #: Keep only the new part of the text (the whole mail stays in the HTML and raw MIME).
    strip_quotes: bool = False


@dataclass(frozen=True)
class Ignore:
    """No record: the processed log keeps ``reason``."""

    reason: str


Action = Create | Append | Ignore


@dataclass(frozen=True)
class AckIntent:
    """Whether the new record's requester is acknowledged: ``none`` (no acknowledgement is in
    question), ``acknowledge`` (yes, within the rate limit) or ``refused`` (with the reason
    and detail of :class:`services.ticketer.domain.ackrules.AckRefusal`)."""

    state: Literal["none", "acknowledge", "refused"]
    reason: str = ""
    detail: str = ""


NO_ACK = AckIntent("none")


@dataclass(frozen=True)
class Decision:
    action: Action
    verdict: Classification
    #: The RecordEvent change announced once the action is stored (``None``: no event).
    change: Change | None = None
    ack: AckIntent = NO_ACK


def stored_ack(intent: AckIntent) -> str:
    """The intent as the processed log keeps it: ``none``, ``acknowledge`` or
    ``refused:<reason>:<detail>``."""
    if intent.state == "refused":
        return f"refused:{intent.reason}:{intent.detail}"
    return intent.state


def ack_from_stored(value: str | None) -> AckIntent | None:
    """The stored intent; ``None`` for a row stored before intents were (revision 0005)."""
    if value is None:
        return None
    if value.startswith("refused:"):
        _, reason, detail = [*value.split(":", 2), ""][:3]
        return AckIntent("refused", reason, detail)
    return AckIntent("acknowledge") if value == "acknowledge" else NO_ACK
