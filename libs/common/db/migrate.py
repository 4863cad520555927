"""Schema migrations, run in code: ``migrate(url)`` and ``ensure_schema(url)``.

Two processes may start against an empty database at once (three ticketers, or a ticketer and
``mailpipe migrate``). Each migration runs inside one transaction that first takes a lock, and
Alembic reads the current revision only after the lock is held, so the second process waits and
then finds nothing to do:

* PostgreSQL: ``pg_advisory_xact_lock`` on a fixed key, released at commit; DDL is transactional,
  so a crash mid-migration leaves the old schema.
* SQLite: the transaction is opened with ``BEGIN IMMEDIATE``, which takes the database's write
  lock; the other process waits on the busy timeout.
"""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from libs.common.db.engine import make_engine, transaction, translate_errors
from libs.common.db.errors import SchemaError

#: Arbitrary, fixed: every mailpipe process agrees on it ("mailpipe" in ASCII, truncated).
MIGRATION_LOCK_KEY = 0x6D61696C70697065 & 0x7FFFFFFFFFFFFFFF


def script_location() -> str:
    """The migrations folder inside the installed package, whatever the working directory."""
    return str(files("libs.common.db.migrations"))


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", script_location())
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the migrations folder has no revisions"
    return head


def current_revision(database_url: str) -> str | None:
    """The schema revision of the database, ``None`` when it was never migrated."""
    engine = make_engine(database_url)
    try:
        with transaction(engine, write=False) as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def migrate(database_url: str) -> None:
    """Upgrade the database to the newest schema; a no-op when it is already there."""
    engine = make_engine(database_url)
    try:
        with transaction(engine, write=True) as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            _refuse_unknown(MigrationContext.configure(conn).get_current_revision())
            with translate_errors():
                command.upgrade(_config(conn), "head")
    finally:
        engine.dispose()


def ensure_schema(database_url: str) -> bool:
    """Migrate when the database is empty or behind; ``True`` when a migration ran.

    A database migrated by a *newer* mailpipe is refused rather than touched.
    """
    current = current_revision(database_url)
    if current == head_revision():
        return False
    _refuse_unknown(current)
    migrate(database_url)
    return True


def _refuse_unknown(current: str | None) -> None:
    if current is None:
        return
    script = ScriptDirectory.from_config(_config())
    known = {rev.revision for rev in script.walk_revisions()}
    if current not in known:
        raise SchemaError(
            f"the database is at schema revision {current!r}, unknown to this mailpipe",
            hint="run a mailpipe version at least as new as the one that migrated the database",
        )
