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


class MailboxChanged(Contract):
    """A hint that a mailbox may hold new mail: the notification endpoint publishes it for a
    change notification it accepted (docs/push.md). It carries no authority and no content:
    the fetcher polling the mailbox runs a delta round, which finds whatever is there."""

    SCHEMA: ClassVar[str] = "mailpipe.mailbox_changed.v1"
    schema_name: Literal["mailpipe.mailbox_changed.v1"] = Field(
        default="mailpipe.mailbox_changed.v1", alias="schema"
    )

    mailbox: EmailAddressStr
    #: ``created`` (new mail), ``missed`` or ``removed`` (lifecycle: a delta round catches
    #: up), ``reauthorize`` (the subscription asks to be reauthorized).
    reason: Literal["created", "missed", "removed", "reauthorize"] = "created"
    #: The provider's subscription id the notification named (opaque, for the logs).
    subscription_id: str = Field(default="", max_length=200)
    occurred_at: AwareDatetime
