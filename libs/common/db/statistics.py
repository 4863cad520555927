"""Planner statistics on PostgreSQL, for servers whose autovacuum does not keep them.

PostgreSQL plans from statistics that ANALYZE gathers; autovacuum runs it as tables grow. A
server with autovacuum off (some managed or hand-tuned ones, and development machines) never
gets them for our tables, and the planner then picks the wrong index: the ticketer's
Message-ID lookup walked every earlier message of the mailbox instead of using the unique
index, so each email cost more than the one before. :func:`refresh` does what autovacuum's
analyze would: it analyzes a table once enough of it changed since its last analyze. Where
autovacuum runs, it has already done so and this finds nothing to do.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Engine

from libs.common.db.engine import transaction

#: Autovacuum's own rule, with a larger base: changes > BASE + FRACTION * live rows.
BASE_CHANGES = 500
FRACTION = 0.1

_CHANGES = text(
    "SELECT relname, n_live_tup, n_mod_since_analyze FROM pg_stat_user_tables "
    "WHERE relname IN :names"
).bindparams(bindparam("names", expanding=True))


def refresh(engine: Engine, tables: Sequence[str]) -> list[str]:
    """ANALYZE those of ``tables`` that changed enough since their last analyze; their names.
    A no-op on anything but PostgreSQL (SQLite plans well enough from its indexes)."""
    if engine.dialect.name != "postgresql" or not tables:
        return []
    with transaction(engine, write=True) as conn:
        rows = conn.execute(_CHANGES, {"names": list(tables)}).all()
        stale = [
            str(name)
            for name, live, changed in rows
            if changed is not None and changed > BASE_CHANGES + FRACTION * (live or 0)
        ]
        for name in stale:
            quoted = conn.dialect.identifier_preparer.quote(name)
            conn.execute(text(f"ANALYZE {quoted}"))
    return stale
