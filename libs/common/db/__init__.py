"""The one mailpipe database, shared by every service: SQLAlchemy 2 Core over SQLite or
PostgreSQL, one Alembic migration history (``mailpipe migrate``).

Services build their repositories on :class:`StoreBase`; the tables of every service are in
:mod:`libs.common.db.schema`. Importing connects to nothing. See docs/records.md.
"""

from libs.common.db._base import RACE_ROUNDS, Absent, Clock, StoreBase, held, upsert, utcnow
from libs.common.db.engine import describe, make_engine, safe_url, transaction
from libs.common.db.errors import SchemaError, StoreError, StoreUnavailable
from libs.common.db.migrate import current_revision, ensure_schema, head_revision, migrate

__all__ = [
    "RACE_ROUNDS",
    "Absent",
    "Clock",
    "SchemaError",
    "StoreBase",
    "StoreError",
    "StoreUnavailable",
    "current_revision",
    "describe",
    "ensure_schema",
    "head_revision",
    "held",
    "make_engine",
    "migrate",
    "safe_url",
    "transaction",
    "upsert",
    "utcnow",
]
