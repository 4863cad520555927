"""Column types that store any text the mail brought, and aware UTC times, on both databases.

PostgreSQL refuses NUL in text (``A string literal cannot contain NUL (0x00) characters``) and
no driver can encode a lone surrogate (what Python's email package keeps of an undecodable
byte). Either would make a mail impossible to store, every time it is retried. These types
replace such characters with U+FFFD REPLACEMENT CHARACTER as values are bound, in one place for
every table, so that what a mail says can never make it unstorable (docs/records.md); bounded
columns cut what is longer than they are wide.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def storable(value: str) -> str:
    """``value`` with NUL and lone surrogates replaced (one scan when there are none)."""
    if value.isascii() and "\x00" not in value:  # most values; both checks run in C at once
        return value
    return _UNSTORABLE.sub(REPLACEMENT, value) if _UNSTORABLE.search(value) else value


def as_stored(value: str, width: int | None) -> str:
    """``value`` as a :class:`StoredString` of ``width`` stores it (and a look-up binds it)."""
    value = storable(value)
    return value[:width] if width is not None and len(value) > width else value


def storable_json(value: Any) -> Any:
    """Every string inside a JSON value (keys too) made storable."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable_json(k): storable_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable_json(v) for v in value]
    return value


class StoredString(TypeDecorator[str]):
    """``String(length)`` that stores what a database would refuse as U+FFFD, cut to the
    column's width: a mail may carry a 400-character recipient in a bounce or a 300-character
    attachment type, and PostgreSQL refuses a longer value (``value too long for type
    character varying``) every time the mail is retried. Look-ups bind through the same type,
    so a cut value still finds itself."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if not isinstance(value, str):
            return value
        return as_stored(value, getattr(self.impl_instance, "length", None))


class StoredText(TypeDecorator[str]):
    """``Text`` that stores what a database would refuse as U+FFFD."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return storable(value) if isinstance(value, str) else value


class StoredJSON(TypeDecorator[Any]):
    """``JSON`` whose strings are made storable (PostgreSQL's JSON refuses ``\\u0000`` too)."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return storable_json(value)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend.

    SQLite keeps no zone; storing naive UTC and re-attaching UTC on the way out makes both
    backends return the same values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use UTC-aware ones")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
