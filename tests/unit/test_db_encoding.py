"""The UTF8 check of a PostgreSQL connection, over fake DB-API connections (no server)."""

from __future__ import annotations

from typing import Any

import pytest

from libs.common.db.encoding import check_encoding, refuse_other_encodings, server_encoding
from libs.common.db.errors import EncodingError, StoreError
from libs.common.setup_check.steps import Check
from mailpipe.doctor_run import exit_code, render_text, rows


class _Cursor:
    def __init__(self, row: tuple[Any, Any]) -> None:
        self.row = row

    def execute(self, sql: str) -> None:
        assert "server_encoding" in sql

    def fetchone(self) -> tuple[Any, Any]:
        return self.row

    def close(self) -> None:
        pass


class _Connection:
    """A driver without psycopg's ``info``: the encoding is asked for, and may be bytes."""

    def __init__(self, name: Any, encoding: Any) -> None:
        self.row = (name, encoding)
        self.rolled_back = self.closed = False

    def cursor(self) -> _Cursor:
        return _Cursor(self.row)

    def rollback(self) -> None:
        self.rolled_back = True

    def close(self) -> None:
        self.closed = True


def test_bytes_from_a_sql_ascii_database_are_read_as_text() -> None:
    conn = _Connection(b"mailpipe", b"SQL_ASCII")
    assert server_encoding(conn) == ("mailpipe", "SQL_ASCII")
    assert conn.rolled_back  # no transaction left open for the pool


def test_utf8_passes_in_any_spelling() -> None:
    for spelling in ("UTF8", "utf8", "UTF-8"):
        check_encoding("mailpipe", spelling)


def test_another_encoding_is_a_permanent_store_error_with_the_fix() -> None:
    with pytest.raises(EncodingError) as raised:
        check_encoding("mailpipe", "LATIN1")
    error = raised.value
    assert isinstance(error, StoreError) and not error.retryable
    assert error.message == "database mailpipe uses encoding LATIN1; mailpipe needs UTF8"
    assert "CREATE DATABASE mailpipe ENCODING 'UTF8' TEMPLATE template0" in str(error.hint)
    assert "initdb --encoding=UTF8" in str(error.hint)


def test_a_name_that_needs_quotes_is_quoted_in_the_fix() -> None:
    with pytest.raises(EncodingError) as raised:
        check_encoding('Mail "pipe"', "SQL_ASCII")
    assert 'CREATE DATABASE "Mail ""pipe""" ENCODING' in str(raised.value.hint)


def test_the_connect_listener_closes_a_refused_connection() -> None:
    conn = _Connection(b"mailpipe", b"SQL_ASCII")
    with pytest.raises(EncodingError):
        refuse_other_encodings(conn, None)
    assert conn.closed
    good = _Connection("mailpipe", "UTF8")
    refuse_other_encodings(good, None)
    assert not good.closed


def test_a_failed_database_step_fails_the_doctor_and_is_shown_after_config() -> None:
    config = Check("config", True, "loaded")
    database = Check("database", False, "database x uses encoding SQL_ASCII", "create it anew")
    assert exit_code(config, [], database) == 1
    assert exit_code(config, [], Check("database", True, "fine")) == 0
    assert render_text(config, [], database).splitlines() == [
        "✓ config: loaded",
        "✗ database: database x uses encoding SQL_ASCII",
        "    fix: create it anew",
    ]
    assert [r["step"] for r in rows(config, [], database)] == ["config", "database"]
