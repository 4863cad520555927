"""Hot statements compiled once per dialect and handed to the driver's cursor directly.

``conn.execute(statement, params)`` looks the compiled form up in a cache (a cache key per
call), builds an execution context, runs every bind processor through generic code and
wraps the cursor in a result that can process every column type. For the ticketer's
inserts that cost more CPU than the database's own work on SQLite (docs/performance.md,
"CPU per email"). :class:`Prepared` keeps what stays the same between calls (the SQL text,
the parameter order, the dialect's bind processors) and gives the values to the driver's
cursor: the same SQL, the same processed values (the storable types, the dialect's date
and JSON handling), inside the connection's transaction. What SQLAlchemy adds around a
cursor and a caller relies on is kept: the ``before_cursor_execute`` and
``after_cursor_execute`` events (the statement counts of ``bench.statements`` and the tests
see every call) and the wrapping of driver errors (``IntegrityError`` sends a write round
again; a lost connection is invalidated).

Only for statements whose results need no type processing: inserts, updates and
``RETURNING`` of integer ids. A statement that needs a Python-side column default the
caller did not give, or a connection not yet in a transaction (SQLAlchemy begins it), runs
the ordinary way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.expression import Executable


@dataclass(frozen=True, slots=True)
class _Plan:
    compiled: SQLCompiler | None  # None: this one runs the ordinary way
    processors: Mapping[str, Callable[[Any], Any]]
    order: tuple[str, ...] | None  # the names in the order of a positional paramstyle


class Prepared:
    """``statement`` (executed with a dict of values) compiled once per dialect and key set."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._plans: dict[tuple[str, tuple[str, ...]], _Plan] = {}

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row the statement returns, or ``None``."""
        return self._run(conn, params, want_row=True)[0]

    def rowcount(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """How many rows the statement changed."""
        return self._run(conn, params, want_row=False)[1]

    def many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Runs the statement once per row of ``rows`` (all of the same keys) in one call of
        the driver's ``executemany`` (psycopg sends them all before reading an answer)."""
        if not rows:
            return
        plan = self._plan(conn.dialect, tuple(rows[0]))
        if plan.compiled is None or not conn.in_transaction():
            conn.execute(cast(Executable, self.statement), [dict(r) for r in rows])
            return
        values = [_bound(plan, r) for r in rows]
        _cursor_execute(conn, plan.compiled.string, values, want_row=False, many=True)

    def _run(
        self, conn: Connection, params: Mapping[str, Any], *, want_row: bool
    ) -> tuple[tuple[Any, ...] | None, int]:
        plan = self._plan(conn.dialect, tuple(params))
        if plan.compiled is None or not conn.in_transaction():
            result = conn.execute(cast(Executable, self.statement), dict(params))
            row = result.first() if want_row else None
            return (tuple(row) if row is not None else None), result.rowcount
        return _cursor_execute(conn, plan.compiled.string, _bound(plan, params), want_row)

    def _plan(self, dialect: Dialect, keys: tuple[str, ...]) -> _Plan:
        plan = self._plans.get((dialect.name, keys))
        if plan is None:
            plan = self._plans[(dialect.name, keys)] = _compile(self.statement, dialect, keys)
        return plan


def _compile(statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...]) -> _Plan:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    assert isinstance(compiled, SQLCompiler)
    if compiled.insert_prefetch or compiled.update_prefetch or compiled.literal_execute_params:
        return _Plan(None, {}, None)  # defaults to compute, or values rendered into the SQL
    processors: dict[str, Callable[[Any], Any]] = {}
    for name, process in compiled._bind_processors.items():
        if not callable(process):  # a tuple type's processors: not here
            return _Plan(None, {}, None)
        processors[name] = process
    order = tuple(compiled.positiontup or ()) if compiled.positional else None
    return _Plan(compiled, processors, order)


def _bound(plan: _Plan, params: Mapping[str, Any]) -> Any:
    """The values of ``params`` for the driver: processed by the column types, in the order
    of a positional paramstyle."""
    assert plan.compiled is not None
    bound = plan.compiled.construct_params(params, _check=False)
    for name, process in plan.processors.items():  # None too, as SQLAlchemy does
        bound[name] = process(bound[name])
    return bound if plan.order is None else tuple(bound[n] for n in plan.order)


def _cursor_execute(
    conn: Connection, sql: str, values: Any, want_row: bool, many: bool = False
) -> tuple[tuple[Any, ...] | None, int]:
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    events = conn._has_events or conn.engine._has_events
    try:
        if events:
            conn.dispatch.before_cursor_execute(conn, cursor, sql, values, None, many)
        if many:
            cursor.executemany(sql, values)
        else:
            cursor.execute(sql, values)
        if events:
            conn.dispatch.after_cursor_execute(conn, cursor, sql, values, None, many)
        row = cursor.fetchone() if want_row else None
        count = cursor.rowcount
    except Exception as exc:
        # Wrapped as SQLAlchemy wraps it (IntegrityError, DBAPIError; a lost connection is
        # invalidated), the cursor closed; this raises.
        conn._handle_dbapi_exception(exc, sql, values, cursor, None)
        raise
    cursor.close()
    return (tuple(row) if row is not None else None), count
