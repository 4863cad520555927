"""The database blob store beyond the port's contract: concurrent puts of the same bytes store
them once, a blob's bytes are chunks of 1 MiB, and a changed chunk is caught on read. On
SQLite and PostgreSQL (``database_url``)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select, update

from libs.common.blobs import BlobCorruptError, BlobTooLarge, open_blobs
from libs.common.contracts import BlobRef
from libs.common.db.blobs import CHUNK_BYTES, DatabaseBlobStore
from libs.common.db.schema import blob_chunks, blobs
from libs.common.settings import Settings


@pytest.fixture
def store(database_url: str) -> Iterator[DatabaseBlobStore]:
    opened = DatabaseBlobStore.open(database_url)
    try:
        yield opened
    finally:
        opened.close()


def counts(store: DatabaseBlobStore) -> tuple[int, int]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(blobs)).scalar_one()
        chunks = conn.execute(select(func.count()).select_from(blob_chunks)).scalar_one()
    return rows, chunks


def test_concurrent_puts_of_the_same_bytes_store_them_once(store: DatabaseBlobStore) -> None:
    data = os.urandom(2 * CHUNK_BYTES + 1)
    refs: list[BlobRef] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def put() -> None:
        start.wait()
        try:
            refs.append(store.put(data))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=put) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(refs) == 6 and len(set(refs)) == 1
    assert counts(store) == (1, 3), "one row, three chunks of at most 1 MiB"
    assert store.get(refs[0]) == data


def test_a_changed_chunk_is_caught_on_read(store: DatabaseBlobStore) -> None:
    ref = store.put(b"the original bytes")
    with store.engine.begin() as conn:
        conn.execute(update(blob_chunks).values(data=b"other bytes"))
    with pytest.raises(BlobCorruptError) as corrupt:
        store.get(ref)
    assert not corrupt.value.retryable and corrupt.value.hint


def test_the_settings_pick_the_database_store(database_url: str) -> None:
    settings = Settings(
        database_url=SecretStr(database_url), blob_store="database", blob_max_bytes=10
    )
    store = open_blobs(settings)
    try:
        assert isinstance(store, DatabaseBlobStore) and store.max_bytes == 10
        ref = store.put(b"0123456789")
        assert store.get(ref) == b"0123456789" and store.size(ref) == 10
        with pytest.raises(BlobTooLarge):
            store.put(b"0123456789!")
    finally:
        store.close()
