"""Alembic environment for the mailpipe database.

:func:`libs.common.db.migrate.migrate` hands us an open connection, already inside a
transaction that holds the migration lock; we run inside it. The ``alembic`` command line
(``alembic -c libs/common/db/migrations/alembic.ini``) works too, with ``sqlalchemy.url``
or ``MAILPIPE_DATABASE_URL``, for writing new revisions.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from libs.common.db.schema import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # The developer path (`alembic revision --autogenerate`, `alembic upgrade`): no lock is
    # taken, so do not point it at a database services are using; use `mailpipe migrate`.
    from libs.common.db.engine import make_engine

    url = config.get_main_option("sqlalchemy.url") or os.environ.get("MAILPIPE_DATABASE_URL")
    if not url:
        raise SystemExit("set sqlalchemy.url or MAILPIPE_DATABASE_URL")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them online")
_run_online()
