"""A PostgreSQL database that is not UTF8 is refused on connect, in one line with the fix:
``mailpipe migrate``, the services' start and ``mailpipe doctor`` (psycopg returns bytes for
text under SQL_ASCII, which used to surface as a TypeError)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from libs.common.db import current_revision, head_revision
from libs.common.db.errors import EncodingError
from tests.integration.test_cli_startup_errors import config_file, mailpipe, one_line_error


def _database(admin: URL, encoding: str) -> Iterator[tuple[str, str]]:
    name = f"mailpipe_enc{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    create = f"CREATE DATABASE \"{name}\" ENCODING '{encoding}' TEMPLATE template0"
    try:
        with engine.connect() as conn:
            # C collation: every server accepts it with any encoding.
            conn.execute(text(f"{create} LC_COLLATE 'C' LC_CTYPE 'C'"))
        yield name, admin.set(database=name).render_as_string(hide_password=False)
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


@pytest.fixture
def sql_ascii(postgres_admin_url: URL) -> Iterator[tuple[str, str]]:
    """(name, URL) of an empty SQL_ASCII database, dropped afterwards."""
    yield from _database(postgres_admin_url, "SQL_ASCII")


@pytest.fixture
def utf8(postgres_admin_url: URL) -> Iterator[tuple[str, str]]:
    yield from _database(postgres_admin_url, "UTF8")


def _expected(name: str) -> str:
    return (
        f"database {name} uses encoding SQL_ASCII; mailpipe needs UTF8 (create the database "
        f"anew with `CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0`, or set the "
        "server up with initdb --encoding=UTF8; then run mailpipe migrate again)"
    )


def test_migrate_refuses_a_sql_ascii_database_in_one_line(
    sql_ascii: tuple[str, str], tmp_path: Path
) -> None:
    name, url = sql_ascii
    done = mailpipe(tmp_path, "migrate", MAILPIPE_DATABASE_URL=url)
    assert one_line_error(done, "migrate") == f"mailpipe migrate: {_expected(name)}"
    assert "TypeError" not in done.stderr and done.stdout == ""


def test_the_library_raises_a_typed_permanent_error(sql_ascii: tuple[str, str]) -> None:
    _name, url = sql_ascii
    with pytest.raises(EncodingError) as raised:
        current_revision(url)
    assert raised.value.retryable is False and raised.value.code == "store_encoding"


@pytest.mark.parametrize("command", ["ticketer", "sender"])
def test_a_service_refuses_to_start_on_a_sql_ascii_database(
    command: str, sql_ascii: tuple[str, str], tmp_path: Path, amqp_url: str
) -> None:
    name, url = sql_ascii
    env = {
        "MAILPIPE_CONFIG": str(config_file(tmp_path)),
        "MAILPIPE_AMQP_URL": amqp_url,
        "MAILPIPE_NAMESPACE": f"enc{uuid.uuid4().hex[:8]}",
        "MAILPIPE_DATABASE_URL": url,
    }
    line = one_line_error(mailpipe(tmp_path, command, **env), command)
    assert line == f"mailpipe {command}: {_expected(name)}"


def test_a_utf8_database_still_migrates(utf8: tuple[str, str], tmp_path: Path) -> None:
    _name, url = utf8
    done = mailpipe(tmp_path, "migrate", MAILPIPE_DATABASE_URL=url)
    assert done.returncode == 0, done.stderr
    assert "created the tables" in done.stdout
    assert current_revision(url) == head_revision()


def test_doctor_reports_the_encoding_with_the_fix(
    sql_ascii: tuple[str, str], utf8: tuple[str, str], tmp_path: Path
) -> None:
    name, url = sql_ascii
    done = mailpipe(tmp_path, "doctor", "--json", MAILPIPE_DATABASE_URL=url)
    steps = {row["step"]: row for row in json.loads(done.stdout)}
    assert steps["database"]["ok"] is False
    assert steps["database"]["detail"] == f"database {name} uses encoding SQL_ASCII; " + (
        "mailpipe needs UTF8"
    )
    assert f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0" in steps["database"]["fix"]
    text_out = mailpipe(tmp_path, "doctor", MAILPIPE_DATABASE_URL=url).stdout
    assert f"✗ database: database {name} uses encoding SQL_ASCII" in text_out

    good = mailpipe(tmp_path, "doctor", "--json", MAILPIPE_DATABASE_URL=utf8[1])
    row = {r["step"]: r for r in json.loads(good.stdout)}["database"]
    assert row["ok"] is True and "encoding UTF8: no tables yet" in row["detail"]
