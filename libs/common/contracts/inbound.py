"""``InboundEmail``: one email read from a mailbox, fetcher → ticketer."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field, field_validator, model_validator

from libs.common.contracts._base import (
    MAX_ATTACHMENTS,
    MAX_BODY_CHARS,
    MAX_RECIPIENTS,
    MAX_REFERENCES,
    Address,
    BlobRef,
    BodyStr,
    Contract,
    EmailAddressStr,
    HeaderStr,
    IdStr,
    MessageIdList,
    MessageIdStr,
    Model,
    SubjectStr,
)

_X_MAILPIPE_MAX = 20


class Body(Model):
    """The message body: text, sanitisable HTML, or both. Bounded; ``truncated`` says so."""

    text: BodyStr | None = None
    html: BodyStr | None = None
    truncated: bool = False
    #: Size in characters of the body before truncation.
    original_chars: int = Field(default=0, ge=0)


class MailHeaders(Model):
    """The headers that threading, loop and bounce detection need; absent ones are ``None``."""

    in_reply_to: HeaderStr | None = None
    references: MessageIdList = Field(default=(), max_length=MAX_REFERENCES)
    auto_submitted: HeaderStr | None = None
    precedence: HeaderStr | None = None
    x_auto_response_suppress: HeaderStr | None = None
    x_loop: HeaderStr | None = None
    return_path: HeaderStr | None = None
    content_type: HeaderStr | None = None
    #: Other auto-reply markers (``X-Autoreply``, ``X-Autorespond``, ``X-MS-Exchange-…``).
    other: dict[str, HeaderStr] = Field(default_factory=dict, max_length=50)
    #: Our own ``X-Mailpipe-*`` headers, lower-cased names.
    x_mailpipe: dict[str, HeaderStr] = Field(default_factory=dict, max_length=_X_MAILPIPE_MAX)


class AttachmentRef(Model):
    """An attachment's metadata; its bytes are in the blob store."""

    name: HeaderStr
    content_type: HeaderStr = "application/octet-stream"
    blob: BlobRef
    is_inline: bool = False
    content_id: HeaderStr | None = None


class InboundEmail(Contract):
    SCHEMA: ClassVar[str] = "mailpipe.inbound_email.v1"
    schema_name: Literal["mailpipe.inbound_email.v1"] = Field(
        default="mailpipe.inbound_email.v1", alias="schema"
    )

    mailbox: EmailAddressStr
    folder: HeaderStr = "inbox"
    #: Graph's immutable id of the message in the mailbox.
    message_id: IdStr
    internet_message_id: MessageIdStr | None = None
    conversation_id: HeaderStr | None = None
    received_at: AwareDatetime
    fetched_at: AwareDatetime
    from_: Address | None = Field(default=None, alias="from")
    sender: Address | None = None
    to: tuple[Address, ...] = Field(default=(), max_length=MAX_RECIPIENTS)
    cc: tuple[Address, ...] = Field(default=(), max_length=MAX_RECIPIENTS)
    reply_to: tuple[Address, ...] = Field(default=(), max_length=MAX_RECIPIENTS)
    subject: SubjectStr = ""
    body: Body = Body()
    headers: MailHeaders = MailHeaders()
    attachments: tuple[AttachmentRef, ...] = Field(default=(), max_length=MAX_ATTACHMENTS)
    raw_mime: BlobRef | None = None

    @field_validator("received_at", "fetched_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        from datetime import UTC

        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _body_bounds(self) -> InboundEmail:
        if self.body.original_chars > MAX_BODY_CHARS and not self.body.truncated:
            raise ValueError("a body over the limit must be truncated and flagged")
        return self
