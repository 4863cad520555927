"""PostgreSQL databases must be UTF8: checked on every new connection, before anything else.

Mail is Unicode; a database in another encoding cannot store it faithfully. Under
``SQL_ASCII`` psycopg even returns ``bytes`` for text, so the first query of SQLAlchemy
itself (the server version) fails with a ``TypeError``. :func:`refuse_other_encodings` is a
``connect`` listener that runs before SQLAlchemy's own first-connect work and refuses such a
database with an :class:`~libs.common.db.errors.EncodingError` saying how to create it.
"""

from __future__ import annotations

import re
from typing import Any

from libs.common.db.errors import EncodingError

REQUIRED = "UTF8"
_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_$]*")


def server_encoding(dbapi_connection: Any) -> tuple[str, str]:
    """The database's name and encoding, read from a raw DB-API connection."""
    info = getattr(dbapi_connection, "info", None)
    if info is not None and hasattr(info, "parameter_status"):
        # psycopg: the server sent both at start-up; no query, no transaction.
        return _text(info.dbname), _text(info.parameter_status("server_encoding"))
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT current_database(), current_setting('server_encoding')")
        name, encoding = cursor.fetchone()
    finally:
        cursor.close()
        dbapi_connection.rollback()
    return _text(name), _text(encoding)


def _text(value: object) -> str:
    # Under SQL_ASCII text comes back as bytes.
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    return "" if value is None else str(value)


def check_encoding(name: str, encoding: str) -> None:
    """Refuse a database whose encoding is not UTF8, saying how to create one that is."""
    if encoding.upper().replace("-", "") == REQUIRED:
        return
    ident = name if _PLAIN_NAME.fullmatch(name) else '"' + name.replace('"', '""') + '"'
    raise EncodingError(
        f"database {name} uses encoding {encoding or 'unknown'}; mailpipe needs {REQUIRED}",
        hint=f"create the database anew with `CREATE DATABASE {ident} ENCODING 'UTF8' "
        "TEMPLATE template0`, or set the server up with initdb --encoding=UTF8; "
        "then run mailpipe migrate again",
    )


def refuse_other_encodings(dbapi_connection: Any, _record: Any) -> None:
    """``connect`` listener: close and refuse a connection to a database that is not UTF8."""
    name, encoding = server_encoding(dbapi_connection)
    try:
        check_encoding(name, encoding)
    except EncodingError:
        dbapi_connection.close()
        raise
