"""``RecordStore``: the ticketer's face onto the shared database."""

from __future__ import annotations

from services.ticketer.store.acks import Acks
from services.ticketer.store.emails import EmailWrites
from services.ticketer.store.lookups import Lookups
from services.ticketer.store.operations import Operations
from services.ticketer.store.outbox import OutboxRows
from services.ticketer.store.prefetch import Prefetch
from services.ticketer.store.queries import RecordQueries
from services.ticketer.store.threadlocks import ThreadLocks


class RecordStore(
    ThreadLocks, EmailWrites, RecordQueries, Prefetch, Lookups, Operations, Acks, OutboxRows
):
    """Records, their messages, the processed log, quarantine, the requester cache, the ack log,
    the outbox. ``unit(threads)``: one transaction holding the locks of those threads
    (:mod:`services.ticketer.store.threadlocks`).

    Open it with ``RecordStore.open(database_url)`` (migrates the schema first, see
    :class:`libs.common.db.StoreBase`). Thread-safe (a connection pool; each call is its own
    transaction). Plain dataclasses in and out (:mod:`services.ticketer.store.models`).
    Database outages raise :class:`~libs.common.db.errors.StoreUnavailable` (retryable).
    """
