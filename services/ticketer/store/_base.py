"""What every part of the store shares: the engine, transactions, the clock, upserts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from services.ticketer.store.engine import transaction

Clock = Callable[[], datetime]

#: How often a write that lost a uniqueness race is re-read and retried before giving up.
RACE_ROUNDS = 5


def utcnow() -> datetime:
    return datetime.now(UTC)


class StoreBase:
    def __init__(self, engine: Engine, *, clock: Clock = utcnow) -> None:
        self._engine = engine
        self._clock = clock

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with transaction(self._engine, write=False) as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with transaction(self._engine, write=True) as conn:
            yield conn

    def close(self) -> None:
        """Close pooled connections; the store must not be used afterwards."""
        self._engine.dispose()


def upsert(
    conn: Connection, table: Table, keys: list[str], values: dict[str, Any], update: list[str]
) -> None:
    """Insert, or update ``update`` columns of the row with the same ``keys`` — atomically."""
    if conn.dialect.name == "postgresql":
        pg = postgresql.insert(table).values(**values)
        conn.execute(
            pg.on_conflict_do_update(index_elements=keys, set_={c: pg.excluded[c] for c in update})
        )
    else:
        lite = sqlite.insert(table).values(**values)
        conn.execute(
            lite.on_conflict_do_update(
                index_elements=keys, set_={c: lite.excluded[c] for c in update}
            )
        )
