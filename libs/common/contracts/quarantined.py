"""``QuarantinedEmail``: the fetcher moved a mail to the quarantine folder itself, fetcher →
ticketer, so that ``mailpipe quarantine list`` shows every quarantined mail in one place."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from libs.common.contracts._base import (
    FIRST_PROVIDER,
    EmailAddressStr,
    HeaderStr,
    IdStr,
    MessageIdStr,
    ProviderStr,
    SubjectStr,
)
from libs.common.contracts._contract import Contract, restated


class _Quarantined(Contract):
    """A mail the fetcher could not read or publish, moved (by its provider's id) to the
    mailbox's quarantine folder. No InboundEmail was published for it, so no record exists."""

    mailbox: EmailAddressStr
    #: The watched folder the mail was in (replay moves it back there).
    folder: HeaderStr = "inbox"
    internet_message_id: MessageIdStr | None = None
    subject: SubjectStr = ""
    #: Machine-readable reason, e.g. ``unreadable:http_500`` or ``unpublishable:contract``.
    reason: str = Field(min_length=1, max_length=200)
    #: What went wrong and what to do about it, in one or two lines.
    detail: str = Field(default="", max_length=2000)
    #: Rounds in a row the mail failed before it was moved.
    failures: int = Field(default=0, ge=0)
    quarantined_at: AwareDatetime


class QuarantinedEmailV1(_Quarantined):
    """Version 1: Microsoft's mailboxes only, the message named by ``graph_id``. Still read
    (as a :class:`QuarantinedEmail`); published only for a ticketer not yet upgraded."""

    SCHEMA: ClassVar[str] = "mailpipe.quarantined_email.v1"
    schema_name: Literal["mailpipe.quarantined_email.v1"] = Field(
        default="mailpipe.quarantined_email.v1", alias="schema"
    )

    graph_id: IdStr

    def upgrade(self) -> QuarantinedEmail:
        return restated(
            self, QuarantinedEmail, {"graph_id"}, provider=FIRST_PROVIDER, message_id=self.graph_id
        )


class QuarantinedEmail(_Quarantined):
    __doc__ = _Quarantined.__doc__

    SCHEMA: ClassVar[str] = "mailpipe.quarantined_email.v2"
    PREVIOUS: ClassVar[type[Contract] | None] = QuarantinedEmailV1
    schema_name: Literal["mailpipe.quarantined_email.v2"] = Field(
        default="mailpipe.quarantined_email.v2", alias="schema"
    )

    #: The mail provider serving the mailbox (``microsoft``).
    provider: ProviderStr
    #: The provider's id of the message in the mailbox (the quarantine move's new id).
    message_id: IdStr

    def downgrade(self) -> QuarantinedEmailV1 | None:
        if self.provider != FIRST_PROVIDER:
            return None
        return restated(
            self, QuarantinedEmailV1, {"provider", "message_id"}, graph_id=self.message_id
        )
