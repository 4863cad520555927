"""The ticketer's record store: SQLAlchemy 2 Core over SQLite or PostgreSQL, Alembic migrations.

See docs/records.md for the tables, the uniqueness rules and how idempotency works.
"""

from services.ticketer.store.errors import RecordNotFound, SchemaError, StoreError, StoreUnavailable
from services.ticketer.store.migrate import current_revision, ensure_schema, head_revision, migrate
from services.ticketer.store.models import (
    Attachment,
    DeliveryFailure,
    MessageRef,
    NewMessage,
    Party,
    ProcessedRow,
    QuarantineRow,
    RecordDetail,
    RecordSummary,
    Requester,
    SentJob,
    StoredMessage,
    WriteResult,
)
from services.ticketer.store.store import RecordStore

__all__ = [
    "Attachment",
    "DeliveryFailure",
    "MessageRef",
    "NewMessage",
    "Party",
    "ProcessedRow",
    "QuarantineRow",
    "RecordDetail",
    "RecordNotFound",
    "RecordStore",
    "RecordSummary",
    "Requester",
    "SchemaError",
    "SentJob",
    "StoreError",
    "StoreUnavailable",
    "StoredMessage",
    "WriteResult",
    "current_revision",
    "ensure_schema",
    "head_revision",
    "migrate",
]
