"""What ``mailpipe dead list --json`` and ``show`` print of a dead letter: plain data, ready
for JSON, credentials and secret-looking fields hidden, long values cut."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from libs.common.broker import policy
from libs.common.broker.dead import DeadLetter, json_object
from libs.common.redact import redact_value

#: Body keys whose values are never shown (no contract has them; a foreign publisher might).
_SECRET_KEYS = ("password", "secret", "token", "authorization", "credential", "api_key")
#: Inline attachments are big; nobody reads them in a terminal.
MAX_SHOWN_CHARS = 2000


def summary(letter: DeadLetter) -> dict[str, Any]:
    """What ``mailpipe dead list --json`` prints for a letter."""
    return {
        "id": letter.key,
        "queue": letter.dead_queue,
        "work_queue": letter.work_queue,
        "schema": letter.schema,
        "correlation_id": letter.correlation_id,
        "what": letter.what,
        "reason": letter.reason,
        "error": letter.error,
        "hint": letter.hint,
        "dead_at": letter.dead_at.isoformat() if letter.dead_at else None,
        "attempts": letter.attempts,
        "retries": letter.retries,
        "replays": letter.replays,
        "size": letter.size,
    }


def details(letter: DeadLetter) -> dict[str, Any]:
    """What ``mailpipe dead show`` prints: the summary, every header, the body; credentials
    and secret-looking fields hidden, long values cut."""
    parsed: Any = json_object(letter.body)
    if parsed is None:
        body: Any = letter.body.decode("utf-8", errors="replace")
    else:
        body = _hide_secrets(parsed)
    return {
        **summary(letter),
        "properties": _plain(letter.properties),
        # The dead queue's own delivery count only says how often it was listed.
        "headers": _plain(
            {k: v for k, v in letter.headers.items() if k != policy.HEADER_DELIVERY_COUNT}
        ),
        "body": _plain(body),
    }


def _hide_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: "***" if any(s in str(k).lower() for s in _SECRET_KEYS) else _hide_secrets(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_hide_secrets(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    """JSON-ready, credentials redacted, long strings cut (inline attachments are big)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        shown = redact_value(value)
        if len(shown) > MAX_SHOWN_CHARS:
            return shown[:MAX_SHOWN_CHARS] + f"… ({len(shown)} characters)"
        return shown
    return redact_value(value)
