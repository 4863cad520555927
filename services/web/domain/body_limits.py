"""How many bytes a request body may have (docs/console.md, "Request size")."""

from __future__ import annotations

from dataclasses import dataclass

from services.web.domain.replying import MAX_TEXT, MAX_TOTAL_BYTES

MIB = 1024 * 1024
#: The reply form: its files, its text (4 bytes a character at most) and the multipart framing.
UPLOAD_BYTES = MAX_TOTAL_BYTES + 4 * MAX_TEXT + MIB
#: Every other form (sign-in, users, status, integrations with their certificate files).
FORM_BYTES = MIB


@dataclass(frozen=True)
class BodyLimits:
    """Bytes a request body may have: a form that uploads files, and every other form."""

    upload_bytes: int = UPLOAD_BYTES
    form_bytes: int = FORM_BYTES


def too_large_message(limit: int) -> str:
    size = f"{limit / MIB:.1f} MiB" if limit >= MIB else f"{limit // 1024} KiB"
    return (
        f"This form sent more than this console takes ({size}); nothing was changed. "
        "Go back, make it smaller (fewer or smaller files) and send it again."
    )
