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
from libs.common.contracts._contract import Contract, restated

#: What a v1 RecordEvent says changed.
MailChange = Literal["new_request", "reply", "auto_reply", "delivery_failure", "outbound"]


class _Record(Contract):
    """The fields every version of ``RecordEvent`` has."""

    event: Literal["created", "updated"]
    record_id: int = Field(ge=1)
    mailbox: EmailAddressStr
    subject: SubjectStr = ""
    requester: Address | None = None
    status: Literal["open", "pending", "closed"] = "open"
    message_count: int = Field(ge=0)
    internet_message_id: MessageIdStr | None = None
    occurred_at: AwareDatetime


class RecordEventV1(_Record):
    """Version 1: changes by mail only. Still read (as a :class:`RecordEvent`); published only
    for a consumer not yet upgraded (a status or assignment change cannot be said in it)."""

    SCHEMA: ClassVar[str] = "mailpipe.record_event.v1"
    schema_name: Literal["mailpipe.record_event.v1"] = Field(
        default="mailpipe.record_event.v1", alias="schema"
    )

    #: What changed: ``new_request``, ``reply``, ``auto_reply``, ``delivery_failure``, ``outbound``.
    change: MailChange

    def upgrade(self) -> RecordEvent:
        return restated(self, RecordEvent, set())


class RecordEvent(_Record):
    """Version 2: also an agent's status or assignment change in the console (docs/records.md,
    "Record events")."""

    SCHEMA: ClassVar[str] = "mailpipe.record_event.v2"
    PREVIOUS: ClassVar[type[Contract] | None] = RecordEventV1
    schema_name: Literal["mailpipe.record_event.v2"] = Field(
        default="mailpipe.record_event.v2", alias="schema"
    )

    #: What changed: by mail as in v1, or ``status`` / ``assigned`` (an agent, in the console).
    change: MailChange | Literal["status", "assigned"]
    #: The username of the agent the record is assigned to (``None``: nobody, or not known:
    #: the ticketer's events do not say).
    assigned_to: str | None = Field(default=None, max_length=64)
    #: Who made a ``status`` or ``assigned`` change (a username); ``""`` for mail.
    changed_by: str = Field(default="", max_length=64)

    def downgrade(self) -> RecordEventV1 | None:
        if self.change in ("status", "assigned"):
            return None
        return restated(self, RecordEventV1, {"assigned_to", "changed_by"})


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
