"""The message contracts between the services (JSON on the wire, one ``schema`` name each)."""

from __future__ import annotations

from libs.common.contracts._base import (
    FIRST_PROVIDER,
    HEADER_FORBIDDEN_CLASS,
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    MAX_BODY_CHARS,
    MAX_HEADER_VALUE_CHARS,
    MAX_INLINE_ATTACHMENTS_BYTES,
    MAX_RECIPIENTS,
    MAX_SUBJECT_CHARS,
    PROVIDER_PATTERN,
    Address,
    BlobRef,
    check_address,
    check_send_header_value,
    clean_header_value,
)
from libs.common.contracts._contract import Contract
from libs.common.contracts.events import MailboxChanged, RecordEvent, RecordEventV1
from libs.common.contracts.inbound import (
    AttachmentRef,
    Body,
    InboundEmail,
    InboundEmailV1,
    MailHeaders,
)
from libs.common.contracts.outbound import OutboundAttachment, OutboundEmail, OutboundResult
from libs.common.contracts.processed import ProcessedEmail, ProcessedEmailV1
from libs.common.contracts.quarantined import QuarantinedEmail, QuarantinedEmailV1
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
        MailboxChanged,
        # The versions before, still read (docs/publishing-jobs.md, "Evolving the contracts").
        InboundEmailV1,
        ProcessedEmailV1,
        QuarantinedEmailV1,
        RecordEventV1,
    )
}


#: The contracts published today: every one but the versions kept only to be read.
CURRENT: dict[str, type[Contract]] = {
    schema: c
    for schema, c in CONTRACTS.items()
    if all(other.PREVIOUS is not c for other in CONTRACTS.values())
}


def contract_for(schema: str) -> type[Contract]:
    try:
        return CONTRACTS[schema]
    except KeyError:
        raise ContractError(f"unknown schema {schema!r}") from None


__all__ = [
    "CONTRACTS",
    "CURRENT",
    "FIRST_PROVIDER",
    "HEADER_FORBIDDEN_CLASS",
    "MAX_ATTACHMENTS",
    "MAX_ATTACHMENT_BYTES",
    "MAX_BODY_CHARS",
    "MAX_HEADER_VALUE_CHARS",
    "MAX_INLINE_ATTACHMENTS_BYTES",
    "MAX_RECIPIENTS",
    "MAX_SUBJECT_CHARS",
    "PROVIDER_PATTERN",
    "Address",
    "AttachmentRef",
    "BlobRef",
    "Body",
    "Contract",
    "InboundEmail",
    "InboundEmailV1",
    "MailHeaders",
    "MailboxChanged",
    "OutboundAttachment",
    "OutboundEmail",
    "OutboundResult",
    "ProcessedEmail",
    "ProcessedEmailV1",
    "QuarantinedEmail",
    "QuarantinedEmailV1",
    "RecordEvent",
    "RecordEventV1",
    "check_address",
    "check_send_header_value",
    "clean_header_value",
    "contract_for",
]
