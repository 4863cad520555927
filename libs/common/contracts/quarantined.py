"""``QuarantinedEmail``: the fetcher moved a mail to the quarantine folder itself, fetcher →
ticketer, so that ``mailpipe quarantine list`` shows every quarantined mail in one place."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from libs.common.contracts._base import (
    Contract,
    EmailAddressStr,
    HeaderStr,
    IdStr,
    MessageIdStr,
    SubjectStr,
)


class QuarantinedEmail(Contract):
    """A mail the fetcher could not read or publish, moved (by its Graph id) to the mailbox's
    quarantine folder. No InboundEmail was published for it, so no record exists."""

    SCHEMA: ClassVar[str] = "mailpipe.quarantined_email.v1"
    schema_name: Literal["mailpipe.quarantined_email.v1"] = Field(
        default="mailpipe.quarantined_email.v1", alias="schema"
    )

    mailbox: EmailAddressStr
    #: The watched folder the mail was in (replay moves it back there).
    folder: HeaderStr = "inbox"
    message_id: IdStr
    internet_message_id: MessageIdStr | None = None
    subject: SubjectStr = ""
    #: Machine-readable reason, e.g. ``unreadable:http_500`` or ``unpublishable:contract``.
    reason: str = Field(min_length=1, max_length=200)
    #: What went wrong and what to do about it, in one or two lines.
    detail: str = Field(default="", max_length=2000)
    #: Rounds in a row the mail failed before it was moved.
    failures: int = Field(default=0, ge=0)
    quarantined_at: AwareDatetime
