"""Blob store: content addressing, idempotent writes, typed errors for missing or corrupt bytes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from libs.common.blobs import (
    BlobCorruptError,
    BlobMissingError,
    BlobStore,
    BlobTooLarge,
    open_blobs,
)
from libs.common.contracts import BlobRef
from libs.common.settings import Settings


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
    assert "MAILPIPE_BLOB_STORE" in info.value.hint
    ref = store.put(b"original")
    store.path(ref.sha256).write_bytes(b"tampered")
    with pytest.raises(BlobCorruptError):
        store.get(ref)


def test_the_folder_store_is_the_default_with_the_configured_limit(tmp_path: Path) -> None:
    settings = Settings(blob_dir=tmp_path / "b", blob_max_bytes=4)
    store = open_blobs(settings)
    assert isinstance(store, BlobStore) and store.root == tmp_path / "b"
    assert store.get(store.put(b"four")) == b"four"
    with pytest.raises(BlobTooLarge):
        store.put(b"five!")
    assert not list((tmp_path / "b").rglob("*.tmp*")), "nothing left of the refused blob"


def test_putting_a_blob_again_renews_its_claim(tmp_path: Path) -> None:
    """Garbage collection counts its grace period from the last put, not the first."""
    store = BlobStore(tmp_path)
    ref = store.put(b"attachment")
    os.utime(store.path(ref.sha256), (1_000_000, 1_000_000))
    store.put(b"attachment")
    assert store.path(ref.sha256).stat().st_mtime > 1_000_000
