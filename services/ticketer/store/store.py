"""``RecordStore``: the ticketer's (and the sender's and fetcher's) face onto the database."""

from __future__ import annotations

from services.ticketer.store._base import Clock, utcnow
from services.ticketer.store.emails import EmailWrites
from services.ticketer.store.engine import make_engine
from services.ticketer.store.jobs import Jobs
from services.ticketer.store.migrate import ensure_schema
from services.ticketer.store.operations import Operations
from services.ticketer.store.queries import RecordQueries


class RecordStore(EmailWrites, RecordQueries, Operations, Jobs):
    """Records, their messages, the processed log, quarantine, caches and job logs.

    Thread-safe (a connection pool; each call is its own transaction). Plain dataclasses in
    and out (:mod:`services.ticketer.store.models`). Database outages raise
    :class:`~services.ticketer.store.errors.StoreUnavailable` (retryable).
    """

    @classmethod
    def open(cls, database_url: str, *, migrate: bool = True, clock: Clock = utcnow) -> RecordStore:
        """A store on ``database_url``; with ``migrate`` the schema is brought up to date first.

        Nothing connects before this is called: importing the module is free.
        """
        if migrate:
            ensure_schema(database_url)
        return cls(make_engine(database_url), clock=clock)
