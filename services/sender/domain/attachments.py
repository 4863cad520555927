"""Attachment bytes as the MIME builder takes them (blob references already resolved)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from libs.common.contracts import OutboundAttachment
from libs.common.errors import ContractError


@dataclass(frozen=True)
class AttachmentBytes:
    name: str
    data: bytes
    content_type: str = "application/octet-stream"
    is_inline: bool = False
    #: Without angle brackets, as the HTML references it (``cid:logo``).
    content_id: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    @classmethod
    def from_contract(cls, att: OutboundAttachment, blob: bytes | None = None) -> AttachmentBytes:
        """Decode an inline attachment, or take a blob's bytes after checking its sha256."""
        if att.content_base64 is not None:
            data = base64.b64decode(att.content_base64)
        elif att.blob is not None and blob is not None:
            if hashlib.sha256(blob).hexdigest() != att.blob.sha256:
                raise ContractError(
                    f"attachment {att.name!r}: blob bytes do not match sha256 "
                    f"{att.blob.sha256[:12]}…",
                    hint="store the blob again; the job must reference the bytes it means",
                )
            data = blob
        else:
            raise ContractError(
                f"attachment {att.name!r}: its blob {att.blob.sha256 if att.blob else ''} "
                "was not provided",
                hint="the blob store lost the file; store it again and republish the job",
            )
        cid = att.content_id.strip().strip("<>") if att.content_id else None
        return cls(att.name, data, att.content_type, att.is_inline, cid or None)
