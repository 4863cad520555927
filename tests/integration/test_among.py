"""libs.common.db.among: ``column`` among a list given as one parameter finds what an
expanding ``IN`` finds, on both backends, and keeps one SQL text on PostgreSQL whatever the
list's length (so the server can keep it prepared)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, bindparam, event, insert, select
from sqlalchemy.engine import Engine

from libs.common.db.among import among
from libs.common.db.engine import make_engine
from libs.common.db.storable import StoredString, as_stored

meta = MetaData()
names = Table(
    "among_names",
    meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", StoredString(40), nullable=False),
)
STORED = ["a", "b\x00c", "ümlaut", "<id@example.com>", "'quote", "d"]
AMONG = select(names.c.name).where(among(names.c.name, "b_names"))
EXPANDING = select(names.c.name).where(names.c.name.in_(bindparam("b_names", expanding=True)))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    meta.create_all(made)
    with made.begin() as conn:
        conn.execute(insert(names), [{"name": n} for n in STORED])
    try:
        yield made
    finally:
        made.dispose()


@pytest.mark.parametrize(
    "wanted",
    [["a"], ["b\x00c", "ümlaut", "missing"], ["<id@example.com>", "'quote", "d", "a"], ["x"], []],
)
def test_finds_what_an_expanding_in_finds(engine: Engine, wanted: list[str]) -> None:
    with engine.connect() as conn:
        got = sorted(r[0] for r in conn.execute(AMONG, {"b_names": wanted}))
        expected = sorted(r[0] for r in conn.execute(EXPANDING, {"b_names": wanted}))
    assert got == expected
    # Bound through the column's type as stored (NUL replaced), so the NUL name is found.
    assert set(got) == {as_stored(n, 40) for n in STORED if n in wanted}


def test_one_statement_text_on_postgresql_whatever_the_length(engine: Engine) -> None:
    texts: list[str] = []

    def seen(*args: object) -> None:
        if str(args[2]).startswith("SELECT"):  # (conn, cursor, statement, ...); not BEGIN
            texts.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", seen)
    with engine.connect() as conn:
        for n in (1, 2, 5):
            conn.execute(AMONG, {"b_names": STORED[:n]}).all()
    event.remove(engine, "before_cursor_execute", seen)
    distinct = len(set(texts))
    assert len(texts) == 3
    # SQLite has no arrays: there the expanding IN, one text per length, as before.
    assert distinct == (1 if engine.dialect.name == "postgresql" else 3)
