"""Reading message bodies that may be hostile: the exact read of a message other systems write
(:func:`wire_problem`, :func:`json_problem`), and a look inside that never raises, for the code
that answers, logs or lists a message which broke its contract (:func:`peek_object`).

JSON leaves room for readings that differ: a key given twice (most parsers keep the last, some
the first), ``NaN`` and ``Infinity`` (not JSON, yet Python reads them), a byte-order mark,
numbers no 64-bit field holds. A publisher's own check and mailpipe could then see two
different jobs in one body, so a strict contract refuses them all, each saying what to fix.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

#: Deeper than any contract (a job: object, list, object, object): more is an attack or a bug,
#: and :mod:`json` and the code that walks a parsed body recurse.
MAX_DEPTH = 32
#: A 64-bit integer has at most 20 digits (a sign aside); every number of a contract fits one.
MAX_INT_DIGITS = 20

#: Content types a JSON job may arrive under: JSON's own, and what AMQP clients set for a body
#: given as bytes (kombu: ``application/data``; others: octet-stream, text/plain). A type
#: naming another format (XML, YAML, msgpack, pickle…) is refused, saying so.
_JSON_TYPES = (
    "",
    "application/json",
    "text/json",
    "application/data",
    "application/octet-stream",
    "text/plain",
)
#: ASCII is UTF-8's first half: a body labelled so is read as UTF-8 all the same.
_UTF8 = ("utf-8", "utf8", "", "us-ascii", "ascii")
#: Content encodings that leave the bytes as they are: kombu marks a bytes body ``binary``.
_AS_IS = (*_UTF8, "binary", "identity", "7bit", "8bit")


class _Refused(ValueError):
    """A reading the strict rules refuse (the text says what to fix)."""


def wire_problem(content_type: str, content_encoding: str) -> str | None:
    """What is wrong with the AMQP ``content_type`` and ``content_encoding`` a message was
    published with, for a body that must be UTF-8 JSON; ``None`` when they fit (or are unset)."""
    media, _, params = content_type.partition(";")
    media = media.strip().lower()
    if media not in _JSON_TYPES and not media.endswith("+json"):
        return (
            f"content_type {content_type!r}: publish the job as JSON, content_type application/json"
        )
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip(' "').lower() not in _UTF8:
            return f"content_type {content_type!r}: the charset of a job is UTF-8; leave it out"
    if content_encoding.strip().lower() not in _AS_IS:
        return (
            f"content_encoding {content_encoding!r}: publish the JSON uncompressed, as UTF-8 "
            "(content_encoding utf-8, or none)"
        )
    return None


def json_problem(body: bytes | str) -> str | None:
    """What makes ``body`` other than one JSON object with a single reading, in words that
    say what to fix; ``None`` when it is one."""
    if isinstance(body, bytes):
        if body.startswith(codecs.BOM_UTF8):
            return "the body starts with a UTF-8 byte-order mark: publish the JSON without one"
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return (
                f"the body is not UTF-8 (byte 0x{body[exc.start]:02x} at position {exc.start}): "
                "publish the job as UTF-8 JSON"
            )
    try:
        parsed = _strict_loads(body)
    except _Refused as exc:
        return str(exc)
    except RecursionError:
        return _too_deep()
    except ValueError as exc:
        return f"the body is not JSON ({exc}): publish the job as one JSON object"
    if not isinstance(parsed, dict):
        return f"the body is a JSON {_kind(parsed)}: publish the job as one JSON object"
    return _too_deep() if _depth(parsed) > MAX_DEPTH else None


def peek_object(body: bytes | str) -> dict[str, Any] | None:
    """``body`` as a JSON object when it is one with a single reading (no key twice, nested
    at most ``MAX_DEPTH`` deep); ``None`` otherwise. Never raises, whatever the body."""
    try:
        parsed = json.loads(body, object_pairs_hook=_unique_keys, parse_int=_int_or_text)
    except (ValueError, RecursionError):  # UnicodeDecodeError and _Refused are ValueErrors
        return None
    if not isinstance(parsed, dict) or _depth(parsed) > MAX_DEPTH:
        return None
    return parsed


def _strict_loads(text: str) -> Any:
    return json.loads(
        text,
        object_pairs_hook=_unique_keys,
        parse_constant=_no_constant,
        parse_int=_bounded_int,
    )


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"the key {key[:80]!r} appears twice in one object: give it once")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number: send a number, or leave the field out")


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _Refused(
            f"a number of {digits} digits: no field of a job holds more than {MAX_INT_DIGITS}"
        )
    return int(text)


def _int_or_text(text: str) -> int | str:
    """A number Python refuses to convert (over 4,300 digits) is kept as its text: a look
    inside a body must not fail on it."""
    return int(text) if len(text) <= 4000 else text


def _depth(value: Any) -> int:
    """How deep lists and objects nest in ``value`` (walked without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            if level <= MAX_DEPTH:  # deeper is refused whatever lies below
                stack.extend((child, level + 1) for child in children)
    return deepest


def _kind(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return "null" if value is None else "boolean"
    return "list" if isinstance(value, list) else "string" if isinstance(value, str) else "number"


def _too_deep() -> str:
    return (
        f"the body is nested more than {MAX_DEPTH} levels deep (lists or objects in one "
        "another): publish the job as the schema shapes it"
    )
