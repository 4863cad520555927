"""The shared in-memory fake of the blob store (``services.ticketer.ports.Blobs``, with
:meth:`put` as :class:`libs.common.blobs.BlobStore` has it).

Unit tests use it instead of a folder; ``tests/integration/test_blobs_port_contract.py`` runs
the same checks against it and against :class:`~libs.common.blobs.BlobStore`. It never fails to
write and holds no corrupt blob (the store's ``BlobCorruptError`` and ``RetryableError`` on a
failing disk are not part of the contract).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from libs.common.blobs import BlobMissingError
from libs.common.contracts import BlobRef
from services.ticketer.ports import Blobs


@dataclass
class FakeBlobs:
    #: sha256 → the blob's bytes.
    data: dict[str, bytes] = field(default_factory=dict)

    def put(self, raw: bytes) -> BlobRef:
        digest = hashlib.sha256(raw).hexdigest()
        self.data[digest] = raw
        return BlobRef(sha256=digest, size=len(raw))

    def get(self, ref: BlobRef) -> bytes:
        if ref.sha256 not in self.data:
            raise BlobMissingError(f"blob {ref.sha256[:12]} missing", hint="share the blob dir")
        return self.data[ref.sha256]

    def exists(self, ref: BlobRef) -> bool:
        return ref.sha256 in self.data


# mypy holds the fake to the port it stands for: a fake that drifts fails the type check.
_FAKE_BLOBS: Blobs = FakeBlobs()
