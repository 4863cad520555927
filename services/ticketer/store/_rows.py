"""Between the ticketer's plain dataclasses and table rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Row

from libs.common.db.rows import mapping, norm_address, norm_mid, norm_mids
from services.ticketer.store.models import (
    Attachment,
    DeliveryFailure,
    Direction,
    Kind,
    MessageRef,
    NewMessage,
    Outcome,
    Party,
    ProcessedRow,
    QuarantineRow,
    RecordSummary,
    Requester,
    Status,
    StoredMessage,
)

T = TypeVar("T")


def parties_json(parties: Iterable[Party]) -> list[dict[str, str]]:
    return [p.as_json() for p in parties]


def parties(raw: Any) -> tuple[Party, ...]:
    return tuple(Party(address=p["address"], name=p.get("name", "")) for p in raw or ())


def message_values(msg: NewMessage, record_id: int, now: datetime) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "direction": msg.direction,
        "kind": msg.kind,
        "mailbox": norm_address(msg.mailbox),
        "provider": msg.provider,
        "message_id": msg.message_id,
        "internet_message_id": norm_mid(msg.internet_message_id),
        "in_reply_to": norm_mid(msg.in_reply_to),
        "references": norm_mids(msg.references),
        "conversation_id": msg.conversation_id,
        "from_address": norm_address(msg.from_.address) if msg.from_ else None,
        "from_name": msg.from_.name if msg.from_ else "",
        "to": parties_json(msg.to),
        "cc": parties_json(msg.cc),
        "subject": msg.subject,
        "body_text": msg.body_text,
        "body_html": msg.body_html,
        "truncated": msg.truncated,
        "content_sha256": msg.content_sha256,
        "received_at": msg.received_at,
        "created_at": now,
    }


def attachment_values(a: Attachment, row_id: int) -> dict[str, Any]:
    return {
        "message_id": row_id,  # the record_messages row
        "name": a.name,
        "content_type": a.content_type,
        "sha256": a.sha256,
        "size": a.size,
        "inline": a.inline,
        "content_id": a.content_id,
    }


def failure_values(d: DeliveryFailure, record_id: int, row_id: int) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "message_id": row_id,  # the record_messages row
        "recipient": norm_address(d.recipient),
        "status": d.status,
        "diagnostic": d.diagnostic,
        "original_message_id": norm_mid(d.original_message_id),
    }


def processed_row(row: Row[Any]) -> ProcessedRow:
    r = mapping(row)
    return ProcessedRow(
        mailbox=r["mailbox"],
        provider=r["provider"],
        message_id=r["message_id"],
        folder=r["folder"],
        internet_message_id=r["internet_message_id"],
        outcome=cast(Outcome, r["outcome"]),
        record_id=r["record_id"],
        reason=r["reason"],
        processed_at=r["processed_at"],
        change=r["change"],
        ack=r["ack"],
    )


def message_ref(row: Row[Any]) -> MessageRef:
    r = mapping(row)
    return MessageRef(
        id=r["id"],
        record_id=r["record_id"],
        direction=cast(Direction, r["direction"]),
        kind=cast(Kind, r["kind"]),
        internet_message_id=r["internet_message_id"],
    )


def record_summary(row: Row[Any]) -> RecordSummary:
    return record_summary_of(mapping(row))


def record_summary_of(r: Mapping[Any, Any]) -> RecordSummary:
    requester = None
    if r["requester_address"]:
        requester = Party(address=r["requester_address"], name=r["requester_name"])
    return RecordSummary(
        id=r["id"],
        mailbox=r["mailbox"],
        subject=r["subject"],
        requester=requester,
        status=cast(Status, r["status"]),
        message_count=r["message_count"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


def stored_message(
    row: Row[Any],
    attachments: tuple[Attachment, ...],
    failures: tuple[DeliveryFailure, ...],
) -> StoredMessage:
    r = mapping(row)
    sender = Party(r["from_address"], r["from_name"]) if r["from_address"] else None
    return StoredMessage(
        id=r["id"],
        direction=cast(Direction, r["direction"]),
        kind=cast(Kind, r["kind"]),
        message_id=r["message_id"],
        internet_message_id=r["internet_message_id"],
        in_reply_to=r["in_reply_to"],
        conversation_id=r["conversation_id"],
        from_=sender,
        to=parties(r["to"]),
        cc=parties(r["cc"]),
        subject=r["subject"],
        body_text=r["body_text"],
        body_html=r["body_html"],
        truncated=r["truncated"],
        received_at=r["received_at"],
        attachments=attachments,
        delivery_failures=failures,
    )


def _same_names(cls: type[T], row: Row[Any]) -> T:
    """A dataclass whose fields are named like the row's columns."""
    r = mapping(row)
    return cls(**{f.name: r[f.name] for f in fields(cls)})  # type: ignore[arg-type]


def attachment(row: Row[Any]) -> Attachment:
    return _same_names(Attachment, row)


def delivery_failure(row: Row[Any]) -> DeliveryFailure:
    return _same_names(DeliveryFailure, row)


def quarantine_row(row: Row[Any]) -> QuarantineRow:
    return _same_names(QuarantineRow, row)


def requester(row: Row[Any]) -> Requester:
    return _same_names(Requester, row)
