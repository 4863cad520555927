"""The database's errors, in the project's one hierarchy (:mod:`libs.common.errors`)."""

from __future__ import annotations

from libs.common.errors import PermanentError, RetryableError


class StoreUnavailable(RetryableError):
    """The database could not be reached, was busy, or dropped the connection mid-work."""

    code = "store_unavailable"


class StoreError(PermanentError):
    """The database refused the work in a way retrying cannot fix."""

    code = "store_error"


class SchemaError(StoreError):
    """The database schema is not the one this version of mailpipe expects."""

    code = "store_schema"
