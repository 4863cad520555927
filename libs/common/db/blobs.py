"""The blob store in the database (``MAILPIPE_BLOB_STORE=database``): no shared disk.

One ``blobs`` row per sha256 and its bytes in ``blob_chunks`` of 1 MiB, written in one
transaction, so that a blob row always has all its chunks and a read fetches one chunk at a
time. Putting bytes already stored inserts nothing (insert-if-absent, safe when two services
put the same attachment at once) and only moves ``put_at``: the claim garbage collection's
grace period counts from (:mod:`libs.common.db.blob_gc`). Works on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Self

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from libs.common.blobs import (
    DEFAULT_MAX_BYTES,
    BlobCorruptError,
    BlobMissingError,
    check_size,
)
from libs.common.contracts import BlobRef
from libs.common.db._base import Clock, StoreBase, utcnow
from libs.common.db.engine import make_engine
from libs.common.db.migrate import ensure_schema
from libs.common.db.schema import blob_chunks, blobs

CHUNK_BYTES = 1024 * 1024


class DatabaseBlobStore(StoreBase):
    """Blobs in the mailpipe database; thread-safe (a connection pool)."""

    def __init__(
        self, engine: Engine, *, clock: Clock = utcnow, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        super().__init__(engine, clock=clock)
        self.max_bytes = max_bytes

    @classmethod
    def open(
        cls,
        database_url: str,
        *,
        migrate: bool = True,
        clock: Clock = utcnow,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> Self:
        if migrate:
            ensure_schema(database_url)
        return cls(make_engine(database_url), clock=clock, max_bytes=max_bytes)

    def __repr__(self) -> str:
        return f"DatabaseBlobStore({self.dialect})"

    def put(self, data: bytes) -> BlobRef:
        check_size(len(data), self.max_bytes)
        ref = BlobRef(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
        with self._write() as conn:
            # RETURNING, not rowcount: psycopg gives no rowcount for an upsert.
            claimed = conn.execute(
                update(blobs)
                .where(blobs.c.sha256 == ref.sha256)
                .values(put_at=self._clock())
                .returning(blobs.c.sha256)
            )
            if claimed.first() is not None:
                return ref
            if self._insert_if_absent(conn, ref):
                view = memoryview(data)
                for seq, start in enumerate(range(0, len(data), CHUNK_BYTES)):
                    chunk = bytes(view[start : start + CHUNK_BYTES])
                    conn.execute(
                        blob_chunks.insert().values(sha256=ref.sha256, seq=seq, data=chunk)
                    )
        return ref

    def _insert_if_absent(self, conn: Connection, ref: BlobRef) -> bool:
        """True when this put created the row. A concurrent put of the same bytes waits here
        for the first one's commit and then inserts nothing (its chunks are all there)."""
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(blobs).values(sha256=ref.sha256, size=ref.size, put_at=self._clock())
        done = conn.execute(
            stmt.on_conflict_do_nothing(index_elements=["sha256"]).returning(blobs.c.sha256)
        )
        return done.first() is not None

    def chunks(self, ref: BlobRef) -> Iterator[bytes]:
        """The blob's bytes, one chunk at a time, from one consistent read."""
        with self._read() as conn:
            if not self._has(conn, ref.sha256):
                raise BlobMissingError(
                    f"blob {ref.sha256[:12]}… is not in the database",
                    hint="the services must share MAILPIPE_BLOB_STORE and the database; "
                    "the mail is still in the mailbox",
                )
            rows = conn.execute(
                select(blob_chunks.c.data)
                .where(blob_chunks.c.sha256 == ref.sha256)
                .order_by(blob_chunks.c.seq)
                .execution_options(yield_per=1)
            )
            for (chunk,) in rows:
                yield bytes(chunk)

    def get(self, ref: BlobRef) -> bytes:
        digest = hashlib.sha256()
        parts = []
        for chunk in self.chunks(ref):
            digest.update(chunk)
            parts.append(chunk)
        if digest.hexdigest() != ref.sha256:
            raise BlobCorruptError(
                f"blob {ref.sha256[:12]}… in the database does not match its sha256",
                hint="its rows were changed by hand; the raw message is still in the mailbox",
            )
        return b"".join(parts)

    @staticmethod
    def _has(conn: Connection, sha256: str) -> bool:
        return (
            conn.execute(select(blobs.c.size).where(blobs.c.sha256 == sha256)).first() is not None
        )

    def exists(self, ref: BlobRef) -> bool:
        with self._read() as conn:
            return self._has(conn, ref.sha256)

    def size(self, ref: BlobRef) -> int | None:
        with self._read() as conn:
            return conn.execute(select(blobs.c.size).where(blobs.c.sha256 == ref.sha256)).scalar()

    def old_keys(self, before: datetime, batch: int = 500) -> Iterator[list[str]]:
        after = ""
        while True:
            with self._read() as conn:
                keys = list(
                    conn.execute(
                        select(blobs.c.sha256)
                        .where(blobs.c.put_at < before, blobs.c.sha256 > after)
                        .order_by(blobs.c.sha256)
                        .limit(batch)
                    ).scalars()
                )
            if not keys:
                return
            yield keys
            after = keys[-1]

    def delete(self, keys: Sequence[str], before: datetime) -> int:
        """Rows put again since they were listed stay; their chunks go with them (cascade)."""
        if not keys:
            return 0
        with self._write() as conn:
            gone = conn.execute(
                delete(blobs).where(blobs.c.sha256.in_(list(keys)), blobs.c.put_at < before)
            )
            return int(gone.rowcount)
