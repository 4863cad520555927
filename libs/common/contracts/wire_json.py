"""Reading message bodies that may be hostile: a look inside that never raises, for the code
that answers, logs or lists a message which broke its contract."""

from __future__ import annotations

import json
from typing import Any


def peek_object(body: bytes | str) -> dict[str, Any] | None:
    """``body`` as a JSON object, or ``None`` when it is none (not JSON, not UTF-8, not an
    object, or nested too deeply for :mod:`json`, whose ``RecursionError`` must not escape)."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return parsed if isinstance(parsed, dict) else None
