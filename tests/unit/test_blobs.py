"""Blob store: content addressing, idempotent writes, typed errors for missing or corrupt bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from libs.common.blobs import BlobCorruptError, BlobMissingError, BlobStore
from libs.common.contracts import BlobRef


def test_put_get_round_trip_and_dedupe(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    data = "Grüße, attachment ✓".encode() * 1000
    ref = store.put(data)
    assert ref.sha256 == hashlib.sha256(data).hexdigest() and ref.size == len(data)
    assert store.get(ref) == data
    assert store.put(data) == ref
    files = [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]
    assert files == [store.path(ref.sha256)]  # one file, no temporary left behind
    assert store.exists(ref)


def test_missing_and_corrupt_are_permanent_with_hints(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    missing = BlobRef(sha256="0" * 64, size=1)
    with pytest.raises(BlobMissingError) as info:
        store.get(missing)
    assert info.value.hint and "MAILPIPE_BLOB_DIR" in info.value.hint
    ref = store.put(b"original")
    store.path(ref.sha256).write_bytes(b"tampered")
    with pytest.raises(BlobCorruptError):
        store.get(ref)
