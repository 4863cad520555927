"""libs.common.db.prepared: a statement run on the driver's cursor stores exactly what the
ordinary ``conn.execute`` stores, on both backends, and keeps what callers rely on (events,
wrapped errors, defaults)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, bindparam, event, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from libs.common.db.engine import make_engine
from libs.common.db.prepared import Prepared
from libs.common.db.storable import StoredJSON, StoredString, StoredText, UTCDateTime

meta = MetaData()
notes = Table(
    "prepared_notes",
    meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", StoredString(8), nullable=False, unique=True),
    Column("body", StoredText(), nullable=False, default="(none)"),
    Column("extra", StoredJSON(), nullable=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("count", Integer, nullable=False),
)
INSERT = Prepared(insert(notes).returning(notes.c.id))
BUMP = Prepared(
    update(notes)
    .where(notes.c.key == bindparam("b_key"))
    .values(count=notes.c.count + 1, body="bumped")
)
MANY = Prepared(insert(notes))
AT = datetime(2026, 12, 3, 20, 0, 0, tzinfo=UTC)  # no microseconds: SQLite's text form


def _values(key: str, **more: object) -> dict[str, object]:
    return {"key": key, "body": "a\x00b", "extra": {"k\x00": ["v"]}, "at": AT, "count": 1, **more}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    meta.create_all(made)
    try:
        yield made
    finally:
        made.dispose()


def _rows(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        found = conn.execute(select(notes).order_by(notes.c.id))
        return [dict(r._mapping) for r in found]


def test_stores_what_the_ordinary_execute_stores(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(notes), _values("plain"))
        row = INSERT.first(conn, _values("prepared-and-longer"))  # cut to the width of 8
    assert row is not None
    plain, prepared = _rows(engine)
    assert row[0] == prepared["id"] != plain["id"]
    assert prepared["key"] == "prepared"
    assert {k: v for k, v in prepared.items() if k not in ("id", "key")} == {
        k: v for k, v in plain.items() if k not in ("id", "key")
    }
    assert prepared["body"] == "a\ufffdb" and prepared["extra"] == {"k\ufffd": ["v"]}
    assert prepared["at"] == AT


def test_an_update_counts_its_rows_and_binds_its_own_values(engine: Engine) -> None:
    with engine.begin() as conn:
        INSERT.first(conn, _values("a"))
        INSERT.first(conn, _values("b"))
        assert BUMP.rowcount(conn, {"b_key": "a"}) == 1
        assert BUMP.rowcount(conn, {"b_key": "a"}) == 1
        assert BUMP.rowcount(conn, {"b_key": "gone"}) == 0
    a, b = _rows(engine)
    assert (a["count"], a["body"]) == (3, "bumped")
    assert (b["count"], b["body"]) == (1, "a\ufffdb")


def test_many_rows_store_what_the_ordinary_executemany_stores_in_one_call(
    engine: Engine,
) -> None:
    seen = _watch(engine)
    with engine.begin() as conn:
        conn.execute(insert(notes), [_values("plain1"), _values("plain2", count=2)])
        before = len(seen)
        MANY.many(conn, [_values("many1"), _values("many2", count=2)])
        MANY.many(conn, [])  # nothing to insert: no statement
        assert [c for _s, c in seen[before:]] == [None]  # one executemany on the cursor
    plain1, plain2, many1, many2 = _rows(engine)
    for plain, many in ((plain1, many1), (plain2, many2)):
        assert {k: v for k, v in many.items() if k not in ("id", "key")} == {
            k: v for k, v in plain.items() if k not in ("id", "key")
        }
    assert many2["count"] == 2 and many1["body"] == "a\ufffdb"


def test_a_unique_violation_among_many_rows_raises_and_stores_none(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as conn:
        MANY.many(conn, [_values("one"), _values("two"), _values("one")])
    assert _rows(engine) == []


def _watch(engine: Engine) -> list[tuple[str, object]]:
    """The statements the cursor events see, with SQLAlchemy's execution context (None when
    the statement went to the driver's cursor directly)."""
    seen: list[tuple[str, object]] = []

    def note(
        _c: object, _cur: object, statement: str, _p: object, context: object, *_: object
    ) -> None:
        seen.append((statement, context))

    event.listen(engine, "before_cursor_execute", note)
    return seen


def test_every_call_is_seen_by_the_cursor_events(engine: Engine) -> None:
    seen = _watch(engine)
    with engine.begin() as conn:
        before = len(seen)
        for n in range(3):
            INSERT.first(conn, _values(f"k{n}"))
        BUMP.rowcount(conn, {"b_key": "k0"})
    ours = seen[before:]
    assert len(ours) == 4
    assert all("prepared_notes" in s and context is None for s, context in ours)


def test_a_unique_violation_raises_sqlalchemys_integrity_error(engine: Engine) -> None:
    with engine.begin() as conn:
        INSERT.first(conn, _values("same"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        INSERT.first(conn, _values("other"))
        INSERT.first(conn, _values("same"))
    assert [r["key"] for r in _rows(engine)] == ["same"]  # the failed transaction rolled back
    with engine.begin() as conn:  # and the pooled connection still works
        INSERT.first(conn, _values("after"))
    assert [r["key"] for r in _rows(engine)] == ["same", "after"]


def test_a_missing_column_default_and_no_transaction_run_the_ordinary_way(
    engine: Engine,
) -> None:
    seen = _watch(engine)
    without_body = {k: v for k, v in _values("nobody").items() if k != "body"}
    with engine.connect() as conn:  # not begun: SQLAlchemy begins it
        row = INSERT.first(conn, without_body)
        conn.commit()
    assert row is not None
    assert [c is not None for s, c in seen if "prepared_notes" in s] == [True]
    (stored,) = _rows(engine)
    assert (stored["id"], stored["body"]) == (row[0], "(none)")
