"""``column`` is one of a list given as ONE bound parameter, whatever the list's length.

An expanding ``IN`` (``column.in_(bindparam(..., expanding=True))``) is rendered anew at every
execution, one placeholder per value, so its SQL text changes with the list's length: the
rendering costs CPU each time and PostgreSQL sees a new statement each time (psycopg prepares
a statement on the server only once the same text has run a few times). On PostgreSQL
:func:`among` is ``column = ANY(:name)`` with one array parameter: one text for every batch.
Elsewhere (SQLite has no arrays) it is the expanding ``IN`` as before. The values go through
the column's type either way (the array's items are bound by it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class Among(ColumnElement[bool]):
    """``column`` among the values of parameter ``name`` (a list); see :func:`among`."""

    __visit_name__ = "mailpipe_among"
    type = Boolean()
    # A comparison (as `IN` is): no `= 1` added where a dialect has no boolean type.
    _is_implicitly_boolean = True
    inherit_cache = True
    # Both parts are in the statement's cache key, so each compiled form is cached as usual.
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        self.column = column
        self.name = name


def among(column: ColumnElement[Any], name: str) -> Among:
    """``column`` is one of the list given as parameter ``name``."""
    return Among(column, name)


@compiles(Among)
def _expanding_in(element: Among, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(Among, "postgresql")
def _any_array(element: Among, compiler: SQLCompiler, **kw: Any) -> str:
    values = bindparam(element.name, type_=ARRAY(element.column.type))
    return compiler.process(element.column == any_(values), **kw)
