"""Tables as revision 0005 left them, for tests that store rows before a later revision (the
current schema, ``libs/common/db/schema.py``, names later columns). Plain table clauses carry
no column defaults: give every NOT NULL column a value."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text, column, table

from libs.common.db.storable import StoredJSON, UTCDateTime

PROCESSED_LOG = table(
    "processed_log",
    column("mailbox"),
    column("graph_id"),
    column("folder"),
    column("outcome"),
    column("record_id"),
    column("reason"),
    Column("processed_at", UTCDateTime()),
)
RECORD_MESSAGES = table(
    "record_messages",
    column("record_id"),
    column("direction"),
    column("kind"),
    column("mailbox"),
    column("graph_id"),
    column("internet_message_id"),
    column("from_name"),
    column("truncated"),
    Column("references", StoredJSON()),
    Column("to", StoredJSON()),
    Column("cc", StoredJSON()),
    column("subject"),
    Column("received_at", UTCDateTime()),
    Column("created_at", UTCDateTime()),
)
QUARANTINE = table(
    "quarantine",
    column("mailbox"),
    column("graph_id"),
    column("folder"),
    column("subject"),
    column("reason"),
    column("detail"),
    column("attempts"),
    Column("created_at", UTCDateTime()),
)
DELTA_STATE = table(
    "delta_state",
    column("mailbox"),
    column("folder"),
    Column("delta_link", Text()),
    Column("updated_at", UTCDateTime()),
)


def message_values(mailbox: str, graph_id: str | None, at: datetime, **more: Any) -> dict[str, Any]:
    """An inbound message of record 1 as revision 0005 stored it; ``more`` replaces any."""
    values: dict[str, Any] = {
        "record_id": 1,
        "direction": "in",
        "kind": "request",
        "mailbox": mailbox,
        "graph_id": graph_id,
        "from_name": "",
        "truncated": False,
        "references": [],
        "to": [],
        "cc": [],
        "subject": "s",
        "received_at": at,
        "created_at": at,
    }
    return {**values, **more}
