"""``RecordEvent``: a record was created or updated, for systems that follow records."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from libs.common.contracts._base import (
    Address,
    EmailAddressStr,
    MessageIdStr,
    SubjectStr,
)
from libs.common.contracts._contract import Contract


class RecordEvent(Contract):
    SCHEMA: ClassVar[str] = "mailpipe.record_event.v1"
    schema_name: Literal["mailpipe.record_event.v1"] = Field(
        default="mailpipe.record_event.v1", alias="schema"
    )

    event: Literal["created", "updated"]
    record_id: int = Field(ge=1)
    mailbox: EmailAddressStr
    subject: SubjectStr = ""
    requester: Address | None = None
    status: Literal["open", "pending", "closed"] = "open"
    message_count: int = Field(ge=0)
    #: What changed: ``new_request``, ``reply``, ``auto_reply``, ``delivery_failure``, ``outbound``.
    change: Literal["new_request", "reply", "auto_reply", "delivery_failure", "outbound"]
    internet_message_id: MessageIdStr | None = None
    occurred_at: AwareDatetime
