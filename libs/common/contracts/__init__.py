"""The message contracts between the services (JSON on the wire, one ``schema`` name each)."""

from __future__ import annotations

from libs.common.contracts._base import (
    HEADER_FORBIDDEN_CLASS,
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    MAX_BODY_CHARS,
    MAX_HEADER_VALUE_CHARS,
    MAX_INLINE_ATTACHMENTS_BYTES,
    MAX_RECIPIENTS,
    MAX_SUBJECT_CHARS,
    Address,
    BlobRef,
    Contract,
    check_address,
    check_send_header_value,
    clean_header_value,
)
from libs.common.contracts.events import RecordEvent
from libs.common.contracts.inbound import AttachmentRef, Body, InboundEmail, MailHeaders
from libs.common.contracts.outbound import OutboundAttachment, OutboundEmail, OutboundResult
from libs.common.contracts.processed import ProcessedEmail
from libs.common.contracts.quarantined import QuarantinedEmail
from libs.common.errors import ContractError

#: Every contract by its schema name.
CONTRACTS: dict[str, type[Contract]] = {
    c.SCHEMA: c
    for c in (
        InboundEmail,
        ProcessedEmail,
        OutboundEmail,
        OutboundResult,
        RecordEvent,
        QuarantinedEmail,
    )
}


def contract_for(schema: str) -> type[Contract]:
    try:
        return CONTRACTS[schema]
    except KeyError:
        raise ContractError(f"unknown schema {schema!r}") from None


__all__ = [
    "CONTRACTS",
    "HEADER_FORBIDDEN_CLASS",
    "MAX_ATTACHMENTS",
    "MAX_ATTACHMENT_BYTES",
    "MAX_BODY_CHARS",
    "MAX_HEADER_VALUE_CHARS",
    "MAX_INLINE_ATTACHMENTS_BYTES",
    "MAX_RECIPIENTS",
    "MAX_SUBJECT_CHARS",
    "Address",
    "AttachmentRef",
    "BlobRef",
    "Body",
    "Contract",
    "InboundEmail",
    "MailHeaders",
    "OutboundAttachment",
    "OutboundEmail",
    "OutboundResult",
    "ProcessedEmail",
    "QuarantinedEmail",
    "RecordEvent",
    "check_address",
    "check_send_header_value",
    "clean_header_value",
    "contract_for",
]
