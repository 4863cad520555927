"""The blob store port (``services.ticketer.ports.Blobs``, and ``put`` as the fetcher uses
it): the same checks against :class:`BlobStore` on a folder and against the shared fake
(``tests/blobs_fake.py``), so the fake cannot drift from the store."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol

import pytest

from libs.common.blobs import BlobMissingError, BlobStore
from libs.common.contracts import BlobRef
from services.ticketer.ports import Blobs
from tests.blobs_fake import FakeBlobs


class Store(Blobs, Protocol):
    """What the checks use: the ticketer's reads and the fetcher's write."""

    def put(self, data: bytes) -> BlobRef: ...


@pytest.fixture(params=["folder", "fake"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return BlobStore(tmp_path / "blobs") if request.param == "folder" else FakeBlobs()


def test_a_blob_reads_back_by_its_sha256(blobs: Store) -> None:
    data = b"From: ann@fabrikam.com\r\n\r\nHello\r\n"
    ref = blobs.put(data)
    assert ref == BlobRef(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    assert blobs.exists(ref) and blobs.get(ref) == data
    assert blobs.put(data) == ref, "the same bytes twice: the same blob"
    assert blobs.get(blobs.put(b"")) == b""


def test_a_missing_blob_is_blob_missing(blobs: Store) -> None:
    ref = BlobRef(sha256=hashlib.sha256(b"never stored").hexdigest(), size=12)
    assert not blobs.exists(ref)
    with pytest.raises(BlobMissingError) as missing:
        blobs.get(ref)
    assert not missing.value.retryable and missing.value.hint
