"""The record store's errors: the shared database errors plus the ticketer's own."""

from __future__ import annotations

from libs.common.db.errors import SchemaError, StoreError, StoreUnavailable, UnitConflict
from libs.common.errors import PermanentError

__all__ = ["RecordNotFound", "SchemaError", "StoreError", "StoreUnavailable", "UnitConflict"]


class RecordNotFound(PermanentError):
    """The record (or quarantine entry) named does not exist (any more)."""

    code = "record_not_found"
