"""The job of ``mailpipe send``, built from the command's options.

Small files travel inline (base64) in the job; larger ones go into the blob store
(``MAILPIPE_BLOB_DIR``, which the sender must share) and the job carries their reference.
"""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from libs.common.contracts import OutboundEmail

#: Files up to this size ride in the job itself; larger ones go through the blob store.
INLINE_ATTACHMENT_BYTES = 1024 * 1024


def attachment_entry(path: Path, put_blob: Any) -> dict[str, Any]:
    """The job's attachment for ``path``: inline base64 when small, else a blob reference."""
    data = path.read_bytes()
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    entry: dict[str, Any] = {"name": path.name, "content_type": content_type}
    if len(data) <= INLINE_ATTACHMENT_BYTES:
        entry["content_base64"] = base64.b64encode(data).decode("ascii")
    else:
        entry["blob"] = put_blob(data).model_dump()
    return entry


def build_job(
    *,
    job_id: str,
    mailbox: str,
    to: list[str],
    cc: list[str],
    from_address: str | None,
    subject: str,
    text: str | None,
    html: str | None,
    attachments: list[dict[str, Any]],
    record_id: int | None,
) -> OutboundEmail:
    """The job, validated by its contract (a ContractError names the bad field)."""
    from datetime import UTC, datetime

    from libs.common.contracts import OutboundEmail

    data: dict[str, Any] = {
        "job_id": job_id,
        "mailbox": mailbox,
        "from_address": from_address,
        "to": [{"address": a} for a in to],
        "cc": [{"address": a} for a in cc],
        "subject": subject,
        "text": text,
        "html": html,
        "attachments": attachments,
        "record_id": record_id,
        "created_at": datetime.now(UTC).isoformat(),
    }
    return OutboundEmail.from_json(_json(data))


def _json(data: dict[str, Any]) -> bytes:
    import json

    return json.dumps(data).encode("utf-8")
