"""The blob store: attachment and raw-MIME bytes kept by their sha256 (the claim check).

Bytes never travel on the broker; contracts carry a :class:`BlobRef`. Two stores keep them,
picked by ``MAILPIPE_BLOB_STORE`` through :func:`open_blobs`: a folder (:class:`BlobStore`,
for ``mailpipe run`` or one host) and the database (:mod:`libs.common.db.blobs`, no shared
disk). Both refuse a blob over ``MAILPIPE_BLOB_MAX_BYTES`` (:class:`BlobTooLarge`, the mail's
own fault), store the same bytes once, and never show half a blob under a real key.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from libs.common.contracts import BlobRef
from libs.common.errors import PermanentError, RetryableError

if TYPE_CHECKING:
    from libs.common.settings import Settings

DEFAULT_MAX_BYTES = 150 * 1024 * 1024


class BlobMissingError(PermanentError):
    code = "blob_missing"


class BlobCorruptError(PermanentError):
    code = "blob_corrupt"


class BlobTooLarge(PermanentError):
    """Bytes over the store's limit: the mail that brought them is at fault, not the store."""

    code = "blob_too_large"


class BlobStorage(Protocol):
    """What the services and ``mailpipe blobs gc`` need of a blob store."""

    def put(self, data: bytes) -> BlobRef: ...

    def get(self, ref: BlobRef) -> bytes: ...

    def exists(self, ref: BlobRef) -> bool: ...

    def size(self, ref: BlobRef) -> int | None: ...

    def old_keys(self, before: datetime, batch: int = 500) -> Iterator[list[str]]:
        """The keys of blobs last put before ``before``, in batches."""
        ...

    def delete(self, keys: Sequence[str], before: datetime) -> int:
        """Delete those of ``keys`` still last put before ``before``; how many went."""
        ...

    def close(self) -> None: ...


def check_size(size: int, limit: int) -> None:
    if size > limit:
        raise BlobTooLarge(
            f"a blob of {size} bytes is over the limit of {limit} bytes",
            hint="raise MAILPIPE_BLOB_MAX_BYTES (every service) to accept it, or leave the mail "
            "in the quarantine folder",
        )


def open_blobs(settings: Settings) -> BlobStorage:
    """The blob store ``MAILPIPE_BLOB_STORE`` names, with its size limit."""
    if settings.blob_store == "database":
        from libs.common.db.blobs import DatabaseBlobStore

        url = settings.database_url.get_secret_value()
        return DatabaseBlobStore.open(url, max_bytes=settings.blob_max_bytes)
    return BlobStore(settings.blob_dir, max_bytes=settings.blob_max_bytes)


class BlobStore:
    """A folder of blobs, ``<root>/ab/cd/abcd…``, shared by the fetcher, the ticketer and the
    sender. Writes are atomic (a temporary file renamed into place); a file's mtime is when
    it was last put (what garbage collection's grace period counts from)."""

    def __init__(self, root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def __repr__(self) -> str:
        return f"BlobStore({str(self.root)!r})"

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> BlobRef:
        check_size(len(data), self.max_bytes)
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        try:
            if target.is_file() and target.stat().st_size == len(data):
                # Put again: a new claim on it, which garbage collection must see.
                os.utime(target)
                return BlobRef(sha256=digest, size=len(data))
            self._write(target, data)
        except OSError as exc:
            raise RetryableError(
                f"cannot write blob {digest[:12]}… to {self.root}: {exc.strerror}",
                code="blob_store_unavailable",
            ) from None
        return BlobRef(sha256=digest, size=len(data))

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
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

    def get(self, ref: BlobRef) -> bytes:
        try:
            data = self.path(ref.sha256).read_bytes()
        except FileNotFoundError:
            raise BlobMissingError(
                f"blob {ref.sha256[:12]}… is not in {self.root}",
                hint="the fetcher, the ticketer and the sender must share MAILPIPE_BLOB_DIR "
                "(one volume), or all use MAILPIPE_BLOB_STORE=database",
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

    def size(self, ref: BlobRef) -> int | None:
        try:
            return self.path(ref.sha256).stat().st_size
        except FileNotFoundError:
            return None

    def old_keys(self, before: datetime, batch: int = 500) -> Iterator[list[str]]:
        keys: list[str] = []
        cutoff = before.timestamp()
        for path in self.root.glob("??/??/*"):
            if path.name.startswith(".tmp-") or not _older(path, cutoff):
                continue
            keys.append(path.name)
            if len(keys) >= batch:
                yield keys
                keys = []
        if keys:
            yield keys

    def delete(self, keys: Sequence[str], before: datetime) -> int:
        deleted = 0
        for key in keys:
            path = self.path(key)
            # Checked again: put since it was listed, it is claimed anew.
            if _older(path, before.timestamp()):
                path.unlink(missing_ok=True)
                deleted += 1
        return deleted

    def close(self) -> None:
        """Nothing held open."""


def _older(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False
