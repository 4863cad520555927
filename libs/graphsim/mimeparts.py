"""The MIME tree of received mail as Exchange serves it: the tree, the body and each leaf's
bytes come from :mod:`libs.common.text.mimetree` (shared with the Gmail adapter, so both
providers read a mail alike); the attachments as Graph lists them are built here.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from libs.common.text.charsets import decode_words, repair
from libs.common.text.mimetree import (
    MAX_DEPTH,
    POLICY,
    Part,
    content,
    declared_charset,
    disposition,
    find_body,
    leaves,
    parse_tree,
    text_of,
)

__all__ = [
    "MAX_DEPTH",
    "POLICY",
    "Part",
    "attachments",
    "content",
    "declared_charset",
    "find_body",
    "leaves",
    "parse_tree",
    "text_of",
]


def _filename(part: Part, hint: str | None) -> str | None:
    try:
        name = part.get_filename()
    except (LookupError, ValueError):
        return None
    if not isinstance(name, str) or not name.strip():
        return None
    return decode_words(repair(name, hint), hint).strip() or None


def attachments(msg: Part, skip: set[int], received: str, hint: str | None) -> list[dict]:
    """fileAttachment JSON for every leaf that is not the body."""
    out: list[dict[str, Any]] = []
    for part in leaves(msg):
        if id(part) in skip:
            continue
        data = content(part)
        kind = disposition(part)
        cid = repair(str(part.get("Content-ID") or ""), hint).strip().strip("<>") or None
        name = _filename(part, hint) or f"ATT{len(out) + 1:05d}.{part.get_content_subtype()}"
        out.append(
            {
                "@odata.type": "#microsoft.graph.fileAttachment",
                "id": base64.urlsafe_b64encode(uuid.uuid4().bytes * 2).decode(),
                "lastModifiedDateTime": received,
                "name": name,
                "contentType": part.get_content_type(),
                "size": len(data),
                "isInline": kind == "inline" or (kind is None and bool(cid)),
                "contentId": cid,
                "contentLocation": None,
                "contentBytes": base64.b64encode(data).decode(),
            }
        )
    return out
