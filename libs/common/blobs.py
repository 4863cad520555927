"""The blob store: attachment and raw-MIME bytes kept by their sha256 (the claim check).

Bytes never travel on the broker; contracts carry a :class:`BlobRef`. Writes are atomic (a
temporary file renamed into place), and writing the same bytes twice is a no-op, so a
re-fetched email costs no extra space and a crash never leaves half a blob under a real name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from libs.common.contracts import BlobRef
from libs.common.errors import PermanentError, RetryableError


class BlobMissingError(PermanentError):
    code = "blob_missing"


class BlobCorruptError(PermanentError):
    code = "blob_corrupt"


class BlobStore:
    """A folder of blobs, ``<root>/ab/cd/abcd…``, shared by the fetcher and the ticketer."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"BlobStore({str(self.root)!r})"

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> BlobRef:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.is_file() and target.stat().st_size == len(data):
            return BlobRef(sha256=digest, size=len(data))
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise RetryableError(
                f"cannot write blob {digest[:12]}… to {self.root}: {exc.strerror}",
                code="blob_store_unavailable",
            ) from None
        return BlobRef(sha256=digest, size=len(data))

    def get(self, ref: BlobRef) -> bytes:
        try:
            data = self.path(ref.sha256).read_bytes()
        except FileNotFoundError:
            raise BlobMissingError(
                f"blob {ref.sha256[:12]}… is not in {self.root}",
                hint="the fetcher and the ticketer must share MAILPIPE_BLOB_DIR (one volume)",
            ) from None
        except OSError as exc:
            raise RetryableError(
                f"cannot read blob {ref.sha256[:12]}…: {exc.strerror}",
                code="blob_store_unavailable",
            ) from None
        if hashlib.sha256(data).hexdigest() != ref.sha256:
            raise BlobCorruptError(
                f"blob {ref.sha256[:12]}… in {self.root} does not match its sha256",
                hint="the file was changed on disk; the raw message is still in the mailbox",
            )
        return data

    def exists(self, ref: BlobRef) -> bool:
        return self.path(ref.sha256).is_file()
