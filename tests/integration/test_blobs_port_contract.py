"""The blob store port (:class:`libs.common.blobs.BlobStorage`: the ticketer's reads, the
fetcher's write, the sender's size): the same checks against the folder store, the database
store on SQLite and on PostgreSQL, and the shared fake (``tests/blobs_fake.py``), so that the
stores agree and the fake cannot drift from them."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from libs.common.blobs import BlobMissingError, BlobStorage, BlobStore, BlobTooLarge
from libs.common.contracts import BlobRef
from libs.common.db.blobs import CHUNK_BYTES, DatabaseBlobStore
from tests.blobs_fake import FakeBlobs
from tests.db_fixtures import fresh_database

#: Room for a blob of several chunks in the database store.
LIMIT = 3 * CHUNK_BYTES


@pytest.fixture(params=["folder", "sqlite", "postgresql", "fake"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStorage]:
    if request.param == "folder":
        yield BlobStore(tmp_path / "blobs", max_bytes=LIMIT)
    elif request.param == "fake":
        yield FakeBlobs(max_bytes=LIMIT)
    else:
        for url in fresh_database(request, request.param, tmp_path):
            store = DatabaseBlobStore.open(url, max_bytes=LIMIT)
            try:
                yield store
            finally:
                store.close()


def test_a_blob_reads_back_by_its_sha256(blobs: BlobStorage) -> None:
    data = b"From: ann@fabrikam.com\r\n\r\nHello\r\n"
    ref = blobs.put(data)
    assert ref == BlobRef(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    assert blobs.exists(ref) and blobs.get(ref) == data and blobs.size(ref) == len(data)
    assert blobs.put(data) == ref, "the same bytes twice: the same blob"
    assert blobs.get(blobs.put(b"")) == b""


def test_a_blob_of_several_chunks_reads_back_whole(blobs: BlobStorage) -> None:
    data = os.urandom(2 * CHUNK_BYTES + 12345)
    ref = blobs.put(data)
    assert ref.size == len(data) and blobs.get(ref) == data


def test_a_missing_blob_is_blob_missing(blobs: BlobStorage) -> None:
    ref = BlobRef(sha256=hashlib.sha256(b"never stored").hexdigest(), size=12)
    assert not blobs.exists(ref) and blobs.size(ref) is None
    with pytest.raises(BlobMissingError) as missing:
        blobs.get(ref)
    assert not missing.value.retryable and missing.value.hint


def test_a_blob_over_the_limit_is_refused_for_good_and_not_stored(blobs: BlobStorage) -> None:
    data = b"x" * (LIMIT + 1)
    with pytest.raises(BlobTooLarge) as refused:
        blobs.put(data)
    assert not refused.value.retryable and "MAILPIPE_BLOB_MAX_BYTES" in (refused.value.hint or "")
    ref = BlobRef(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    assert not blobs.exists(ref)
    assert blobs.get(blobs.put(data[:LIMIT])) == data[:LIMIT], "the limit itself is allowed"
