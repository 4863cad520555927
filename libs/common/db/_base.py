"""What every repository on the database shares: the engine, transactions, the clock, upserts."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Self

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from libs.common.db.engine import describe, make_engine, transaction, translate_errors
from libs.common.db.errors import UnitConflict
from libs.common.db.migrate import ensure_schema
from libs.common.db.schema import HEADER
from libs.common.db.storable import as_stored

Clock = Callable[[], datetime]

#: How often a write that lost a uniqueness race is re-read and retried before giving up.
RACE_ROUNDS = 5


def utcnow() -> datetime:
    return datetime.now(UTC)


class Absent:
    """What a unit of work read once for its whole batch and found ABSENT: keys
    ``(kind, mailbox, value)``, e.g. ``("mid", mailbox, message_id)``. A lookup of such a key
    is answered from memory for the rest of the unit, saving a round trip per email; a write
    of the key in the unit drops it again, so the next lookup asks the database.

    Only absence is kept, never a row: the unit's own writes are the only ones it sees change
    a key, and they drop it. Another writer's row of the key committed after the read is what
    a lookup at the read would have missed too: where a unique constraint covers the key (an
    email's log row, a Message-ID) the unit's own insert collides with it, which rolls the unit
    back (:class:`UnitConflict`) and its work is done again outside a unit; where none does
    (a conversation, a thread's ancestors) the read must come after the locks the unit takes
    on its threads, which keep such writers out until it commits.

    Values are kept as a header column stores them (:func:`held`): two values the column
    cannot tell apart are one key.
    """

    def __init__(self) -> None:
        self._keys: set[tuple[str, str, str]] = set()

    def add(self, kind: str, mailbox: str, values: Iterable[str]) -> None:
        self._keys.update((kind, mailbox, held(v)) for v in values)

    def __contains__(self, key: tuple[str, str, str]) -> bool:
        kind, mailbox, value = key
        return (kind, mailbox, held(value)) in self._keys

    def wrote(self, kind: str, mailbox: str, value: str | None) -> None:
        if value is not None:
            self._keys.discard((kind, mailbox, held(value)))


def held(value: str) -> str:
    """``value`` as a header-wide column (Message-ID, Graph id, conversation) stores it."""
    return as_stored(value, HEADER)


class StoreBase:
    """A repository over one engine. Thread-safe: a connection pool, one transaction per call,
    or one per :meth:`unit` for every call a thread makes inside it."""

    def __init__(self, engine: Engine, *, clock: Clock = utcnow) -> None:
        self._engine = engine
        self._clock = clock
        self._local = threading.local()

    @classmethod
    def open(cls, database_url: str, *, migrate: bool = True, clock: Clock = utcnow) -> Self:
        """A repository on ``database_url``; with ``migrate`` the schema is brought up to date.

        Nothing connects before this is called: importing the module is free.
        """
        if migrate:
            ensure_schema(database_url)
        return cls(make_engine(database_url), clock=clock)

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @contextmanager
    def unit(self) -> Iterator[None]:
        """Every call this thread makes inside the block shares ONE write transaction,
        committed when the block ends and rolled back, all of it, when it raises: one BEGIN
        and one COMMIT for many emails instead of several of each per email. A write that
        loses a uniqueness race inside it raises :class:`UnitConflict` (no savepoint per
        write: the race is rare, and a savepoint costs two round trips per write): the caller
        rolls the unit back and does the work again outside a unit. Nested units join the
        outer one."""
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        with transaction(self._engine, write=True) as conn:
            self._local.conn = conn
            self._local.absent = Absent()
            try:
                yield
            finally:
                self._local.conn = None
                self._local.absent = None

    def _absent(self) -> Absent | None:
        """The unit's memory of keys read absent (see :class:`Absent`); ``None`` outside a
        unit, where every lookup asks the database."""
        absent: Absent | None = getattr(self._local, "absent", None)
        return absent

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        shared: Connection | None = getattr(self._local, "conn", None)
        if shared is not None:
            with translate_errors():
                yield shared
            return
        with transaction(self._engine, write=False) as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        shared: Connection | None = getattr(self._local, "conn", None)
        if shared is not None:
            try:
                with translate_errors():
                    yield shared
            except IntegrityError as exc:
                raise UnitConflict(
                    f"a write lost a race inside a shared transaction ({describe(exc)})",
                    hint="roll the unit back and repeat its work outside a unit",
                ) from None
            return
        with transaction(self._engine, write=True) as conn:
            yield conn

    def close(self) -> None:
        """Close pooled connections; the repository must not be used afterwards."""
        self._engine.dispose()


def upsert(
    conn: Connection, table: Table, keys: list[str], values: dict[str, Any], update: list[str]
) -> None:
    """Insert, or update ``update`` columns of the row with the same ``keys`` — atomically."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(**values)
    conn.execute(
        stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in update})
    )
