"""The shared in-memory fake of the blob store (:class:`libs.common.blobs.BlobStorage`: the
ticketer's ``services.ticketer.ports.Blobs``, the fetcher's ``put``, the sender's ``size``).

Unit tests use it instead of a folder or a database; the contract test
(``tests/integration/test_blobs_port_contract.py``) runs the same checks against it and against
both stores. It never fails to write and holds no
corrupt blob (a store's ``BlobCorruptError`` and ``RetryableError`` on a failing disk or
database are not part of the contract), and it has no garbage collection: it knows no put
times (``old_keys`` lists nothing), which ``tests/integration/test_blobs_gc.py`` checks on the
real stores.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from libs.common.blobs import DEFAULT_MAX_BYTES, BlobMissingError, BlobStorage, check_size
from libs.common.contracts import BlobRef
from services.ticketer.ports import Blobs


@dataclass
class FakeBlobs:
    #: sha256 → the blob's bytes.
    data: dict[str, bytes] = field(default_factory=dict)
    max_bytes: int = DEFAULT_MAX_BYTES

    def put(self, raw: bytes) -> BlobRef:
        check_size(len(raw), self.max_bytes)
        digest = hashlib.sha256(raw).hexdigest()
        self.data[digest] = raw
        return BlobRef(sha256=digest, size=len(raw))

    def get(self, ref: BlobRef) -> bytes:
        if ref.sha256 not in self.data:
            raise BlobMissingError(f"blob {ref.sha256[:12]} missing", hint="share the blob dir")
        return self.data[ref.sha256]

    def exists(self, ref: BlobRef) -> bool:
        return ref.sha256 in self.data

    def size(self, ref: BlobRef) -> int | None:
        blob = self.data.get(ref.sha256)
        return None if blob is None else len(blob)

    def old_keys(self, before: datetime, batch: int = 500) -> Iterator[list[str]]:
        return iter(())

    def delete(self, keys: Sequence[str], before: datetime) -> int:
        return 0

    def close(self) -> None:
        pass


# mypy holds the fake to the ports it stands for: a fake that drifts fails the type check.
_FAKE_BLOBS: Blobs = FakeBlobs()
_FAKE_STORE: BlobStorage = FakeBlobs()
