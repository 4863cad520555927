"""``OutboundEmail``: the public job contract any system may publish; ``OutboundResult`` back."""

from __future__ import annotations

import base64
import binascii
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field, field_validator, model_validator

from libs.common.contracts._base import (
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    MAX_INLINE_ATTACHMENTS_BYTES,
    MAX_RECIPIENTS,
    MAX_REFERENCES,
    Address,
    BlobRef,
    BodyStr,
    EmailAddressStr,
    ExtraHeaderName,
    HeaderStr,
    IdStr,
    MessageIdList,
    MessageIdStr,
    Model,
    SendHeaderStr,
    SendIdStr,
    SubjectStr,
    check_header_value,
    check_send_header_value,
)
from libs.common.contracts._contract import Contract

JobId = SendIdStr


class OutboundAttachment(Model):
    """An attachment given inline (base64, small) or as a blob reference (large)."""

    name: SendHeaderStr = Field(min_length=1)
    content_type: SendHeaderStr = "application/octet-stream"
    content_base64: str | None = None
    blob: BlobRef | None = None
    is_inline: bool = False
    content_id: SendHeaderStr | None = None

    @model_validator(mode="after")
    def _one_source(self) -> OutboundAttachment:
        if (self.content_base64 is None) == (self.blob is None):
            raise ValueError("an attachment needs exactly one of content_base64 or blob")
        if self.blob is not None and self.blob.size > MAX_ATTACHMENT_BYTES:
            raise ValueError(f"attachment {self.name!r} is over {MAX_ATTACHMENT_BYTES} bytes")
        if self.content_base64 is not None:
            try:
                base64.b64decode(self.content_base64, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError(
                    f"attachment {self.name!r}: content_base64 is not base64"
                ) from None
        return self

    @property
    def size(self) -> int:
        if self.blob is not None:
            return self.blob.size
        assert self.content_base64 is not None
        return len(base64.b64decode(self.content_base64))


class OutboundEmail(Contract):
    SCHEMA: ClassVar[str] = "mailpipe.outbound_email.v1"
    # Written by other systems: a field mailpipe does not know is refused, not dropped.
    UNKNOWN_FIELDS: ClassVar[Literal["ignore", "forbid"]] = "forbid"
    STRICT_JSON: ClassVar[bool] = True
    schema_name: Literal["mailpipe.outbound_email.v1"] = Field(
        default="mailpipe.outbound_email.v1", alias="schema"
    )

    #: Idempotency key: the same job id is sent at most once.
    job_id: JobId
    #: The configured service mailbox to send through.
    mailbox: EmailAddressStr
    #: Send as this agent (Exchange "Send As"); must be in the mailbox's ``send_as`` list.
    from_address: EmailAddressStr | None = None
    from_name: SendHeaderStr = ""
    to: tuple[Address, ...] = Field(default=(), max_length=MAX_RECIPIENTS)
    cc: tuple[Address, ...] = Field(default=(), max_length=MAX_RECIPIENTS)
    bcc: tuple[Address, ...] = Field(default=(), max_length=MAX_RECIPIENTS)
    reply_to: tuple[Address, ...] = Field(default=(), max_length=10)
    subject: SendHeaderStr
    text: BodyStr | None = None
    html: BodyStr | None = None
    attachments: tuple[OutboundAttachment, ...] = Field(default=(), max_length=MAX_ATTACHMENTS)
    in_reply_to: MessageIdStr | None = None
    references: MessageIdList = Field(default=(), max_length=MAX_REFERENCES)
    record_id: int | None = Field(default=None, ge=1)
    #: Extra headers; only ``X-`` names.
    headers: dict[ExtraHeaderName, SendHeaderStr] = Field(
        default_factory=dict, max_length=50, json_schema_extra={"additionalProperties": False}
    )
    #: RFC 3834: ``auto-replied`` for acknowledgements, ``auto-generated`` for notices.
    auto_submitted: Literal["no", "auto-replied", "auto-generated"] = "no"
    save_to_sent_items: bool = True
    created_at: AwareDatetime | None = None

    @field_validator("headers")
    @classmethod
    def _x_headers_only(cls, value: dict[str, str]) -> dict[str, str]:
        seen: dict[str, str] = {}
        for name in value:
            if name.lower().startswith("x-mailpipe-"):
                raise ValueError(f"{name!r}: X-Mailpipe-* headers are reserved for mailpipe")
            # Header names are case-insensitive: two spellings would be one header, and
            # which value went out would depend on the order.
            if name.lower() in seen:
                raise ValueError(
                    f"{name!r} and {seen[name.lower()]!r} differ only in case, and header "
                    "names are case-insensitive: give the header once"
                )
            seen[name.lower()] = name
        return value

    @field_validator("to", "cc", "bcc", "reply_to")
    @classmethod
    def _names_we_can_write(cls, value: tuple[Address, ...]) -> tuple[Address, ...]:
        # Address is shared with received mail; what we write follows the sending rule.
        for item in value:
            check_send_header_value(item.name)
            check_header_value(item.address)
        return value

    @field_validator("mailbox", "from_address")
    @classmethod
    def _address_we_can_write(cls, value: str | None) -> str | None:
        return check_header_value(value) if value is not None else None

    @field_validator("in_reply_to", "references", mode="before")
    @classmethod
    def _ids_as_given(cls, value: object) -> object:
        # Before the ids are canonicalised (which keeps the first id of a value and would
        # drop a line break and whatever follows it unseen), so that such a value is refused.
        for item in value if isinstance(value, list | tuple) else (value,):
            if isinstance(item, str):
                check_header_value(item)
        return value

    @model_validator(mode="after")
    def _headers_not_ours(self) -> OutboundEmail:
        # Written by mailpipe for automatic mail; the job's copy would be dropped unseen.
        if self.auto_submitted != "no" and any(
            name.lower() == "x-auto-response-suppress" for name in self.headers
        ):
            raise ValueError(
                "headers: mailpipe sets X-Auto-Response-Suppress itself on automatic mail "
                f"(auto_submitted {self.auto_submitted!r}): leave the header out"
            )
        return self

    @model_validator(mode="after")
    def _sendable(self) -> OutboundEmail:
        if not (self.to or self.cc or self.bcc):
            raise ValueError("a job needs at least one recipient in to, cc or bcc")
        if len(self.to) + len(self.cc) + len(self.bcc) > MAX_RECIPIENTS:
            raise ValueError(f"a job may have at most {MAX_RECIPIENTS} recipients in all")
        if self.text is None and self.html is None:
            raise ValueError("a job needs a text or an html body")
        inline = sum(a.size for a in self.attachments if a.content_base64 is not None)
        if inline > MAX_INLINE_ATTACHMENTS_BYTES:
            raise ValueError(
                f"inline attachments total {inline} bytes, over {MAX_INLINE_ATTACHMENTS_BYTES}: "
                "pass large files as blob references"
            )
        total = sum(a.size for a in self.attachments)
        if total > MAX_ATTACHMENT_BYTES:
            raise ValueError(f"attachments total {total} bytes, over {MAX_ATTACHMENT_BYTES}")
        return self


ResultStatus = Literal["sent", "failed", "rejected"]


class OutboundResult(Contract):
    SCHEMA: ClassVar[str] = "mailpipe.outbound_result.v1"
    schema_name: Literal["mailpipe.outbound_result.v1"] = Field(
        default="mailpipe.outbound_result.v1", alias="schema"
    )

    # The job's id as given (the char rule only): a job refused for its id is still answered.
    job_id: IdStr
    mailbox: EmailAddressStr | None = None
    status: ResultStatus
    attempts: int = Field(default=1, ge=0)
    record_id: int | None = Field(default=None, ge=1)
    #: The Internet Message-ID that was sent (``sent`` only).
    internet_message_id: MessageIdStr | None = None
    #: The address the mail went out as.
    sent_as: EmailAddressStr | None = None
    graph_request_id: HeaderStr | None = None
    #: Machine-readable reason: ``send_as_not_allowed``, ``contract_violation``, a Graph code …
    error_code: str | None = Field(default=None, max_length=200)
    #: What went wrong and what to do about it.
    error_message: str | None = Field(default=None, max_length=4000)
    #: Notes on how it was sent (e.g. the send-as fallback was used).
    detail: str | None = Field(default=None, max_length=2000)
    #: What was sent (``sent`` only), so that a record can show the outgoing message.
    subject: SubjectStr | None = None
    to: tuple[Address, ...] = Field(default=(), max_length=MAX_RECIPIENTS)
    cc: tuple[Address, ...] = Field(default=(), max_length=MAX_RECIPIENTS)
    in_reply_to: MessageIdStr | None = None
    references: MessageIdList = Field(default=(), max_length=MAX_REFERENCES)
    text: BodyStr | None = None
    finished_at: AwareDatetime

    @model_validator(mode="after")
    def _consistent(self) -> OutboundResult:
        if self.status != "sent" and not self.error_code:
            raise ValueError(f"status {self.status!r} needs an error_code")
        return self
