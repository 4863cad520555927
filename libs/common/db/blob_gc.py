"""Garbage collection of blobs no one needs (``mailpipe blobs gc``), for either blob store.

A blob goes when it was last put before the grace period, no record attachment names it and
no unanswered outbox job names it. The grace period covers what the database cannot show:
mail still queued in RabbitMQ (an InboundEmail, or a job ``mailpipe send`` published
directly) names blobs no row names yet. Raw MIME is read only while its mail is processed,
so it goes once the grace period is over. A blob put again meanwhile is claimed anew and
stays: each store checks the time again as it deletes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from libs.common.blobs import BlobStorage
from libs.common.db._base import Clock, utcnow
from libs.common.db.engine import transaction
from libs.common.db.schema import outbox, record_attachments


@dataclass(frozen=True)
class Collected:
    """One collection: old blobs looked at, and how many of them went."""

    examined: int = 0
    deleted: int = 0

    @property
    def kept(self) -> int:
        return self.examined - self.deleted


def named_by_records(conn: Connection, keys: Sequence[str]) -> set[str]:
    found = conn.execute(
        select(record_attachments.c.sha256).where(record_attachments.c.sha256.in_(list(keys)))
    ).scalars()
    return set(found)


def named_by_outbox(conn: Connection) -> set[str]:
    """The blobs of the outbox's jobs the sender has not answered (few: they are in flight)."""
    bodies = conn.execute(select(outbox.c.body).where(outbox.c.confirmed_at.is_(None))).scalars()
    return set(_blob_keys(bodies))


def _blob_keys(bodies: Iterable[str]) -> Iterable[str]:
    for body in bodies:
        try:
            attachments = json.loads(body).get("attachments") or []
        except (ValueError, AttributeError):
            continue  # not a job this version reads: its blobs fall to the grace period
        for attachment in attachments:
            blob = attachment.get("blob") if isinstance(attachment, dict) else None
            if isinstance(blob, dict) and isinstance(blob.get("sha256"), str):
                yield blob["sha256"]


class BlobCollector:
    """Deletes the blobs of ``store`` that nothing in the database at ``engine`` needs."""

    def __init__(
        self, engine: Engine, store: BlobStorage, grace: timedelta, *, clock: Clock = utcnow
    ) -> None:
        self._engine = engine
        self._store = store
        self._grace = grace
        self._clock = clock

    def collect(self, batch: int = 500) -> Collected:
        before = self._clock() - self._grace
        with transaction(self._engine, write=False) as conn:
            pending = named_by_outbox(conn)
        examined = deleted = 0
        for keys in self._store.old_keys(before, batch):
            with transaction(self._engine, write=False) as conn:
                needed = named_by_records(conn, keys) | pending
            examined += len(keys)
            deleted += self._store.delete([k for k in keys if k not in needed], before)
        return Collected(examined=examined, deleted=deleted)
