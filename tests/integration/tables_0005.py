"""Tables as revision 0005 left them, for tests that store rows before a later revision (the
current schema, ``libs/common/db/schema.py``, names later columns). Plain table clauses carry
no column defaults: give every NOT NULL column a value."""

from __future__ import annotations

from sqlalchemy import Column, Text, column, table

from libs.common.db.schema import UTCDateTime
from libs.common.db.storable import StoredJSON

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
