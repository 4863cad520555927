"""The ticketer's record store, on the shared database layer (:mod:`libs.common.db`).

See docs/records.md for the tables, the uniqueness rules and how idempotency works. The
migration functions and database errors are re-exported from :mod:`libs.common.db`.
"""

from libs.common.db import current_revision, ensure_schema, head_revision, migrate
from services.ticketer.store.errors import RecordNotFound, SchemaError, StoreError, StoreUnavailable
from services.ticketer.store.models import (
    Attachment,
    Decided,
    DeliveryFailure,
    MessageRef,
    NewMessage,
    OutboxRow,
    Party,
    ProcessedRow,
    QuarantineRow,
    RecordDetail,
    RecordSummary,
    Requester,
    StoredMessage,
    WriteResult,
)
from services.ticketer.store.prefetch import Expected
from services.ticketer.store.store import RecordStore

__all__ = [
    "Attachment",
    "Decided",
    "DeliveryFailure",
    "Expected",
    "MessageRef",
    "NewMessage",
    "OutboxRow",
    "Party",
    "ProcessedRow",
    "QuarantineRow",
    "RecordDetail",
    "RecordNotFound",
    "RecordStore",
    "RecordSummary",
    "Requester",
    "SchemaError",
    "StoreError",
    "StoreUnavailable",
    "StoredMessage",
    "WriteResult",
    "current_revision",
    "ensure_schema",
    "head_revision",
    "migrate",
]
