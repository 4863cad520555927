"""Thread locks: a batch's unit of work holds one lock per thread key of its mails, so a
request and its reply handled by two ticketers at the same moment are applied one after the
other, and the second sees the first's record (docs/ticketer.md, "Threads across ticketers").

PostgreSQL: transaction-scoped advisory locks (``pg_advisory_xact_lock``), taken as the first
statement of the unit and released by its COMMIT or ROLLBACK. Every batch takes its locks in
ascending key order, so two batches wanting overlapping keys queue instead of deadlocking; a
holder stuck past ``LOCK_TIMEOUT`` makes the waiter fail with a retryable error, not hang.
SQLite: nothing to take: a unit is one ``BEGIN IMMEDIATE`` transaction, writers queue for
the whole database, and the unit's reads happen inside it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator
from contextlib import contextmanager

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.engine import Connection

from libs.common.db import StoreBase

#: How long a unit waits for another ticketer's batch holding one of its threads. Far beyond a
#: batch's commit (milliseconds); past it the batch fails with ``StoreUnavailable`` and is retried.
LOCK_TIMEOUT = "30s"

# The array is walked in the order given (a function scan, no sort in between), so the
# keys are locked in ascending order: the order is made in Python, not left to the planner.
# The transaction's lock timeout is set in the same statement (one round trip, not two): the
# array is unnest's argument, computed from ``set_config``'s answer, so the timeout is in
# place before the first lock is asked for.
_LOCK = text(
    "SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CASE WHEN"
    " set_config('lock_timeout', :timeout, true) IS NOT NULL THEN :keys END) AS k"
).bindparams(bindparam("keys", type_=ARRAY(BIGINT)), bindparam("timeout", LOCK_TIMEOUT))


def lock_id(key: str) -> int:
    """A thread key's advisory lock id: the first 8 bytes of its sha256, a signed int64
    (stable across processes and releases, unlike Python's ``hash``)."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big", signed=True)


def lock_ids(keys: Collection[str]) -> list[int]:
    """The lock ids of ``keys``, once each, ascending: the order every unit locks in."""
    return sorted({lock_id(key) for key in keys})


def take(conn: Connection, keys: Collection[str]) -> None:
    """Lock ``keys`` for the rest of ``conn``'s transaction (PostgreSQL; SQLite: nothing)."""
    if not keys or conn.dialect.name != "postgresql":
        return
    conn.execute(_LOCK, {"keys": lock_ids(keys)})


class ThreadLocks(StoreBase):
    @contextmanager
    def unit(self, threads: Collection[str] = ()) -> Iterator[None]:
        """:meth:`StoreBase.unit` holding the locks of ``threads`` (thread keys,
        :func:`services.ticketer.domain.threadkeys.thread_keys`) from its first statement to
        its end. A nested unit joins the outer one and adds its locks (in a second round:
        give a unit all its keys at once)."""
        with super().unit():
            with self._write() as conn:
                take(conn, threads)
            yield
