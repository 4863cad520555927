"""The result of classification: plain frozen data the ticketer acts on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["request", "auto_reply", "bounce", "feedback", "delivery_success", "loop", "ignored"]
KINDS: tuple[Kind, ...] = (
    "request",
    "auto_reply",
    "bounce",
    "feedback",
    "delivery_success",
    "loop",
    "ignored",
)


@dataclass(frozen=True)
class DeliveryFailure:
    """One recipient a bounce reports; ``status`` is an RFC 3463 code or ``""``."""

    recipient: str
    status: str = ""
    diagnostic: str = ""
    action: str = "failed"


@dataclass(frozen=True)
class Classification:
    kind: Kind
    #: Short machine string naming the rule that decided, e.g. ``dsn:5.1.1``.
    reason: str
    failures: tuple[DeliveryFailure, ...] = ()
    #: Message-ID of the returned message of a bounce: the mail of ours it refers to.
    original_message_id: str | None = None
    #: A permanent failure (5.x.x or a permanent NDR), as opposed to a delay or a 4.x.x.
    hard: bool = False
    #: The sender asked for no automatic answers (X-Auto-Response-Suppress, List-Id, …).
    suppress_autoreply: bool = False

    @property
    def creates_record(self) -> bool:
        """Only a request may open a new record; other kinds at most annotate one."""
        return self.kind == "request"

    @property
    def may_acknowledge(self) -> bool:
        """Whether an auto-acknowledgement may be sent for this mail."""
        return self.kind == "request" and not self.suppress_autoreply
