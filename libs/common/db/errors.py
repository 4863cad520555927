"""The database's errors, in the project's one hierarchy (:mod:`libs.common.errors`)."""

from __future__ import annotations

from libs.common.errors import PermanentError, RetryableError


class StoreUnavailable(RetryableError):
    """The database could not be reached, was busy, or dropped the connection mid-work."""

    code = "store_unavailable"


class UnitConflict(StoreUnavailable):
    """A write inside a shared transaction (``StoreBase.unit``) lost a uniqueness race to
    another writer. The transaction cannot go on (PostgreSQL aborts it): roll the unit back
    and do its work again outside a unit, where each write resolves its own race."""

    code = "store_unit_conflict"


class StoreError(PermanentError):
    """The database refused the work in a way retrying cannot fix."""

    code = "store_error"


class SchemaError(StoreError):
    """The database schema is not the one this version of mailpipe expects."""

    code = "store_schema"


class EncodingError(StoreError):
    """The PostgreSQL database does not store text as UTF8 (SQL_ASCII, LATIN1, …): mail text
    cannot be stored faithfully, and under SQL_ASCII the driver even returns bytes for text."""

    code = "store_encoding"
