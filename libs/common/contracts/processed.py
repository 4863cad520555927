"""``ProcessedEmail``: the ticketer has durably handled an email, ticketer → fetcher."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field, model_validator

from libs.common.contracts._base import (
    Contract,
    EmailAddressStr,
    HeaderStr,
    IdStr,
    MessageIdStr,
)

Outcome = Literal["created", "appended", "ignored", "quarantined"]


class ProcessedEmail(Contract):
    SCHEMA: ClassVar[str] = "mailpipe.processed_email.v1"
    schema_name: Literal["mailpipe.processed_email.v1"] = Field(
        default="mailpipe.processed_email.v1", alias="schema"
    )

    mailbox: EmailAddressStr
    folder: HeaderStr = "inbox"
    message_id: IdStr
    internet_message_id: MessageIdStr | None = None
    outcome: Outcome
    record_id: int | None = Field(default=None, ge=1)
    #: Why it was ignored or quarantined (``auto_reply``, ``loop``, ``bounce``, …).
    reason: str | None = Field(default=None, max_length=2000)
    processed_at: AwareDatetime

    @model_validator(mode="after")
    def _record_for_outcome(self) -> ProcessedEmail:
        if self.outcome in ("created", "appended") and self.record_id is None:
            raise ValueError(f"outcome {self.outcome!r} needs a record_id")
        if self.outcome in ("ignored", "quarantined") and not self.reason:
            raise ValueError(f"outcome {self.outcome!r} needs a reason")
        return self
