"""``ProcessedEmail``: the ticketer has durably handled an email, ticketer → fetcher."""

from __future__ import annotations

from typing import ClassVar, Literal, Self

from pydantic import AwareDatetime, Field, model_validator

from libs.common.contracts._base import (
    FIRST_PROVIDER,
    EmailAddressStr,
    HeaderStr,
    IdStr,
    MessageIdStr,
    ProviderStr,
)
from libs.common.contracts._contract import Contract, restated

Outcome = Literal["created", "appended", "ignored", "quarantined"]


class _Processed(Contract):
    """The fields every version of ``ProcessedEmail`` has."""

    mailbox: EmailAddressStr
    folder: HeaderStr = "inbox"
    internet_message_id: MessageIdStr | None = None
    outcome: Outcome
    record_id: int | None = Field(default=None, ge=1)
    #: Why it was ignored or quarantined (``auto_reply``, ``loop``, ``bounce``, …).
    reason: str | None = Field(default=None, max_length=2000)
    processed_at: AwareDatetime

    @model_validator(mode="after")
    def _record_for_outcome(self) -> Self:
        if self.outcome in ("created", "appended") and self.record_id is None:
            raise ValueError(f"outcome {self.outcome!r} needs a record_id")
        if self.outcome in ("ignored", "quarantined") and not self.reason:
            raise ValueError(f"outcome {self.outcome!r} needs a reason")
        return self


class ProcessedEmailV1(_Processed):
    """Version 1: Microsoft's mailboxes only, the message named by ``graph_id``. Still read
    (as a :class:`ProcessedEmail`); published only for a fetcher not yet upgraded."""

    SCHEMA: ClassVar[str] = "mailpipe.processed_email.v1"
    schema_name: Literal["mailpipe.processed_email.v1"] = Field(
        default="mailpipe.processed_email.v1", alias="schema"
    )

    graph_id: IdStr

    def upgrade(self) -> ProcessedEmail:
        return restated(
            self, ProcessedEmail, {"graph_id"}, provider=FIRST_PROVIDER, message_id=self.graph_id
        )


class ProcessedEmail(_Processed):
    SCHEMA: ClassVar[str] = "mailpipe.processed_email.v2"
    PREVIOUS: ClassVar[type[Contract] | None] = ProcessedEmailV1
    schema_name: Literal["mailpipe.processed_email.v2"] = Field(
        default="mailpipe.processed_email.v2", alias="schema"
    )

    #: The mail provider serving the mailbox (``microsoft``).
    provider: ProviderStr
    #: The provider's id of the message in the mailbox, as the InboundEmail gave it.
    message_id: IdStr

    def downgrade(self) -> ProcessedEmailV1 | None:
        if self.provider != FIRST_PROVIDER:
            return None
        return restated(
            self, ProcessedEmailV1, {"provider", "message_id"}, graph_id=self.message_id
        )
