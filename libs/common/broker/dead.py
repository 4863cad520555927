"""Reading a dead letter into what a person needs (what, why, when, how many times), and the
headers of its replay: plain functions over plain data, no broker I/O (see dead_queue.py).

Two kinds of dead letters reach ``<queue>.dead``:

* the consumer loop's copies (copies.py), with the ``x-mailpipe-*`` headers of policy.py;
* messages the broker parked itself at ``x-delivery-limit`` (their ``on_dead`` hook crashed
  the process every time), with only the broker's ``x-death`` / ``x-first-death-*`` headers.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from libs.common.broker import policy
from libs.common.contracts.wire_json import peek_object
from libs.common.redact import redact_url

#: Times an operator moved the message back to its work queue (``mailpipe dead retry``).
HEADER_REPLAYS = "x-mailpipe-replays"

#: Headers a replay leaves behind: the verdict of the last run, and the broker's per-queue
#: bookkeeping (a replay starts with a fresh retry budget and a fresh delivery count).
_VERDICT_HEADERS = frozenset(
    {
        policy.HEADER_ATTEMPT,
        policy.HEADER_REASON,
        policy.HEADER_ERROR,
        policy.HEADER_HINT,
        policy.HEADER_TRACEBACK,
        policy.HEADER_QUEUE,
        policy.HEADER_DEAD_AT,
        policy.HEADER_DELIVERY_COUNT,
        "x-death",
    }
)
_BROKER_DEATH_PREFIXES = ("x-first-death-", "x-last-death-")

#: Body fields that say which mail or job a message is about, in the order they are shown.
WHAT_FIELDS = ("job_id", "mailbox", "message_id", "graph_id", "record_id", "status", "subject")
MIN_PREFIX = 6


@dataclass(frozen=True)
class DeadLetter:
    """One message in a dead-letter queue, as read (nothing of it is changed by reading)."""

    key: str
    dead_queue: str
    work_queue: str
    schema: str
    message_id: str
    correlation_id: str
    what: dict[str, str]
    reason: str
    error: str
    hint: str
    dead_at: datetime | None
    #: Handler attempts of the last run (None: the broker parked it, the loop never judged it).
    attempts: int | None
    #: Passes through the retry tiers, counted by the broker in ``x-death``.
    retries: int
    replays: int
    size: int
    headers: dict[str, Any] = field(repr=False)
    properties: dict[str, Any] = field(repr=False)
    body: bytes = field(repr=False)


def describe(
    dead_queue: str,
    work_queue: str,
    body: bytes,
    headers: Mapping[str, Any],
    properties: Mapping[str, Any],
) -> DeadLetter:
    deaths = _deaths(headers)
    parsed = json_object(body)
    message_id = str(properties.get("message_id") or "")
    parked = _broker_death(deaths, work_queue)
    reason, error, hint = _why(headers, parked)
    return DeadLetter(
        key=message_id or "sha-" + hashlib.sha256(body).hexdigest()[:24],
        dead_queue=dead_queue,
        work_queue=work_queue,
        schema=str(properties.get("type") or (parsed or {}).get("schema") or ""),
        message_id=message_id,
        correlation_id=str(properties.get("correlation_id") or ""),
        what=_what(parsed),
        reason=reason,
        error=error,
        hint=hint,
        dead_at=_dead_at(headers, parked),
        attempts=_int(headers.get(policy.HEADER_ATTEMPT)),
        retries=sum(_int(d.get("count")) or 0 for d in deaths if d.get("reason") == "expired"),
        replays=_int(headers.get(HEADER_REPLAYS)) or 0,
        size=len(body),
        headers=dict(headers),
        properties=dict(properties),
        body=body,
    )


def _why(headers: Mapping[str, Any], parked: Mapping[str, Any] | None) -> tuple[str, str, str]:
    reason = str(headers.get(policy.HEADER_REASON) or "")
    if reason:
        # Our loop redacts what it writes; a foreign publisher or an old version may not.
        return (
            reason,
            redact_url(str(headers.get(policy.HEADER_ERROR) or "")),
            redact_url(str(headers.get(policy.HEADER_HINT) or "")),
        )
    if parked is not None:
        why = str(parked.get("reason") or "unknown")
        return (
            why,
            f"the broker dead-lettered it from {parked.get('queue')} ({why}); "
            "its consumer never reached a verdict (it may end the process each time)",
            "look at the message and the service's log around that time; "
            "retry it once the cause is fixed",
        )
    return "unknown", "no reason recorded", "look at the message; retry or drop it"


def _deaths(headers: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    deaths = headers.get("x-death")
    if not isinstance(deaths, list | tuple):
        return []
    return [d for d in deaths if isinstance(d, Mapping)]


def _broker_death(deaths: list[Mapping[str, Any]], work_queue: str) -> Mapping[str, Any] | None:
    """The broker's own dead-lettering out of the work queue (not a retry tier's expiry)."""
    for death in deaths:
        if death.get("queue") == work_queue and death.get("reason") != "expired":
            return death
    return None


def _dead_at(headers: Mapping[str, Any], parked: Mapping[str, Any] | None) -> datetime | None:
    stamp = headers.get(policy.HEADER_DEAD_AT)
    if isinstance(stamp, str):
        try:
            return datetime.fromisoformat(stamp)
        except ValueError:
            pass
    when = parked.get("time") if parked is not None else None
    if isinstance(when, datetime):
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return None


def json_object(body: bytes) -> dict[str, Any] | None:
    """The body as a JSON object to show; ``None`` for any other body (a dead letter may be
    anything a publisher sent: 100,000 brackets, invalid UTF-8 …), shown as text then."""
    return peek_object(body)


def _what(parsed: Mapping[str, Any] | None) -> dict[str, str]:
    if parsed is None:
        return {}
    out: dict[str, str] = {}
    for name in WHAT_FIELDS:
        value = parsed.get(name)
        if value is not None and value != "" and not isinstance(value, dict | list):
            out[name] = one_line(redact_url(str(value)), 120)
    return out


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


#: Unicode categories a terminal may obey rather than show: controls (escape sequences, line
#: breaks), format characters (bidi overrides and isolates, zero-width ones), line and
#: paragraph separators, surrogates, private use, unassigned.
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def escape(text: str) -> str:
    """``text`` with every character a terminal could obey shown as ``\\x1b``, ``\\u202e`` …"""
    out = []
    for char in text:
        if unicodedata.category(char) in UNSAFE_CATEGORIES:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def one_line(text: str, limit: int) -> str:
    """``text`` safe for one terminal line: line breaks, escapes and other control or format
    characters are shown as ``\\x1b``, ``\\u2028`` …, never obeyed (a subject is the sender's)."""
    return policy.truncate(escape(text), limit)


def matches(letter: DeadLetter, wanted: str) -> bool:
    """The id in full, or a prefix of at least ``MIN_PREFIX`` characters of it."""
    return letter.key == wanted or (len(wanted) >= MIN_PREFIX and letter.key.startswith(wanted))


def replay_headers(letter: DeadLetter) -> dict[str, Any]:
    """Headers of the copy put back on the work queue: the verdict removed (a fresh retry
    budget), the first routing key kept (the default exchange replaces it), one replay more."""
    out = {
        k: v
        for k, v in letter.headers.items()
        if k not in _VERDICT_HEADERS and not k.startswith(_BROKER_DEATH_PREFIXES)
    }
    if not out.get(policy.HEADER_ROUTING_KEY):
        first = _first_routing_key(_deaths(letter.headers), letter.work_queue)
        if first:
            out[policy.HEADER_ROUTING_KEY] = first
    out[HEADER_REPLAYS] = letter.replays + 1
    return out


def _first_routing_key(deaths: list[Mapping[str, Any]], work_queue: str) -> str:
    for death in reversed(deaths):  # the broker lists the most recent death first
        keys = death.get("routing-keys")
        if isinstance(keys, list | tuple) and keys and keys[0] != work_queue:
            return str(keys[0])
    return ""


def replay_properties(letter: DeadLetter) -> dict[str, Any]:
    """The same ids and type, so that the consumer's idempotency sees the same message."""
    props = letter.properties
    out: dict[str, Any] = {
        "message_id": letter.message_id or letter.key,
        "correlation_id": letter.correlation_id,
        "content_type": props.get("content_type") or "application/json",
        "content_encoding": props.get("content_encoding") or "utf-8",
        "delivery_mode": 2,
    }
    if props.get("type"):
        out["type"] = props["type"]
    return out
