"""What ``mailpipe dead list --json`` and ``show`` print of a dead letter: plain data, ready
for JSON, credentials and secret-looking fields hidden, long values cut."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from libs.common.broker import policy
from libs.common.broker.dead import DeadLetter, escape, json_object
from libs.common.redact import redact_value, secret_key

#: What a retry cannot do for some queues: their consumers answer a message they answered
#: before with that answer (idempotency), so the way to do the work again is elsewhere.
RETRY_NOTES = {
    "sender": "the sender answers a job it already answered (failed, rejected) with that "
    "same answer and sends nothing; to send it after all, publish it again under a new job_id",
    "ticketer": "mail the ticketer quarantined is answered as quarantined again; bring it back "
    "with mailpipe quarantine replay ID (ids: mailpipe quarantine list)",
}


#: Inline attachments are big; nobody reads them in a terminal.
MAX_SHOWN_CHARS = 2000
HIDDEN = "***"


def summary(letter: DeadLetter) -> dict[str, Any]:
    """What ``mailpipe dead list --json`` prints for a letter (terminal-safe, see _plain)."""
    shown: dict[str, Any] = _plain(_summary(letter))
    return shown


def _summary(letter: DeadLetter) -> dict[str, Any]:
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
        "dead_at": letter.dead_at,
        "attempts": letter.attempts,
        "retries": letter.retries,
        "replays": letter.replays,
        "size": letter.size,
    }


def details(letter: DeadLetter) -> dict[str, Any]:
    """What ``mailpipe dead show`` prints: the summary, every header, the body; credentials
    and the values of secret-named fields and headers hidden, long values cut."""
    parsed: Any = json_object(letter.body)
    body: Any = letter.body if parsed is None else parsed
    shown: dict[str, Any] = _plain(
        {
            **_summary(letter),
            "properties": letter.properties,
            # The dead queue's own delivery count only says how often it was listed.
            "headers": {
                k: v for k, v in letter.headers.items() if k != policy.HEADER_DELIVERY_COUNT
            },
            "body": body,
        }
    )
    return shown


def _plain(value: Any) -> Any:
    """JSON-ready and safe to print: the values of secret-named keys (``X-Api-Key``,
    ``Authorization`` …) hidden at any depth, credentials in text redacted, every control,
    line-break and bidi character escaped (keys too: a header name is the publisher's), long
    strings cut (inline attachments are big)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, Mapping):
        return {
            _text(k): HIDDEN if secret_key(k) and v not in (None, "") else _plain(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return _text(value)


def _text(value: Any) -> str:
    shown = escape(str(redact_value(str(value))))
    if len(shown) > MAX_SHOWN_CHARS:
        return shown[:MAX_SHOWN_CHARS] + f"… ({len(shown)} characters)"
    return shown
