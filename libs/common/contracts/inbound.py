"""``InboundEmail``: one email read from a mailbox, fetcher → ticketer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar, Literal, Self

from pydantic import AwareDatetime, Field, field_validator, model_validator

from libs.common.contracts._base import (
    FIRST_PROVIDER,
    MAX_ATTACHMENTS,
    MAX_BODY_CHARS,
    MAX_RECIPIENTS,
    MAX_REFERENCES,
    Address,
    BlobRef,
    BodyStr,
    EmailAddressStr,
    HeaderStr,
    IdStr,
    MessageIdList,
    MessageIdStr,
    Model,
    ProviderStr,
    SubjectStr,
)
from libs.common.contracts._contract import Contract, restated

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


class _Inbound(Contract):
    """The fields every version of ``InboundEmail`` has."""

    mailbox: EmailAddressStr
    folder: HeaderStr = "inbox"
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
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _body_bounds(self) -> Self:
        if self.body.original_chars > MAX_BODY_CHARS and not self.body.truncated:
            raise ValueError("a body over the limit must be truncated and flagged")
        return self


class InboundEmailV1(_Inbound):
    """Version 1: Microsoft's mailboxes only, the message named by ``graph_id``. Still read
    (as an :class:`InboundEmail`); published only for a ticketer not yet upgraded."""

    SCHEMA: ClassVar[str] = "mailpipe.inbound_email.v1"
    schema_name: Literal["mailpipe.inbound_email.v1"] = Field(
        default="mailpipe.inbound_email.v1", alias="schema"
    )

    #: Graph's immutable id of the message in the mailbox.
    graph_id: IdStr

    def upgrade(self) -> InboundEmail:
        return restated(
            self, InboundEmail, {"graph_id"}, provider=FIRST_PROVIDER, message_id=self.graph_id
        )


class InboundEmail(_Inbound):
    SCHEMA: ClassVar[str] = "mailpipe.inbound_email.v2"
    PREVIOUS: ClassVar[type[Contract] | None] = InboundEmailV1
    schema_name: Literal["mailpipe.inbound_email.v2"] = Field(
        default="mailpipe.inbound_email.v2", alias="schema"
    )

    #: The mail provider serving the mailbox (``microsoft``).
    provider: ProviderStr
    #: The provider's id of the message in the mailbox (Graph's immutable id).
    message_id: IdStr

    def downgrade(self) -> InboundEmailV1 | None:
        if self.provider != FIRST_PROVIDER:
            return None
        return restated(self, InboundEmailV1, {"provider", "message_id"}, graph_id=self.message_id)
