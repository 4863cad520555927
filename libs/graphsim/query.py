"""OData query options over messages: ``$select``, ``$filter``, ``$orderby``, ``$top``/``$skip``
paging with ``@odata.nextLink``, and rendering a stored message into Graph's JSON."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from libs.graphsim.errors import GraphHTTPError, bad_request
from libs.graphsim.state import Message

MESSAGE_PROPS = [
    "id",
    "createdDateTime",
    "lastModifiedDateTime",
    "changeKey",
    "categories",
    "receivedDateTime",
    "sentDateTime",
    "hasAttachments",
    "internetMessageId",
    "subject",
    "bodyPreview",
    "importance",
    "parentFolderId",
    "conversationId",
    "conversationIndex",
    "isDeliveryReceiptRequested",
    "isReadReceiptRequested",
    "isRead",
    "isDraft",
    "webLink",
    "inferenceClassification",
    "body",
    "sender",
    "from",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "replyTo",
    "flag",
    "internetMessageHeaders",
]
_CANONICAL = {p.lower(): p for p in MESSAGE_PROPS}
_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?$")
_CLAUSE = re.compile(r"^\s*([A-Za-z][\w/]*)\s+(eq|ne|gt|ge|lt|le)\s+(.+?)\s*$", re.I)
_AND = re.compile(r"\s+and\s+", re.I)
_OPS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and a > b,
    "ge": lambda a, b: a is not None and a >= b,
    "lt": lambda a, b: a is not None and a < b,
    "le": lambda a, b: a is not None and a <= b,
}


def parse_select(raw: str | None) -> list[str] | None:
    if not raw:
        return None
    out = []
    for name in (n.strip() for n in raw.split(",")):
        canonical = _CANONICAL.get(name.lower())
        if canonical is None:
            raise GraphHTTPError(
                400,
                "RequestBroker--ParseUri",
                f"Could not find a property named '{name}' on type 'microsoft.graph.message'.",
            )
        out.append(canonical)
    return out


def render(msg: Message, select: list[str] | None, immutable: bool) -> dict[str, Any]:
    mid = msg.immutable_id if immutable else msg.rest_id
    out: dict[str, Any] = {"@odata.etag": f'W/"{msg.change_key}"', "id": mid}
    fields = msg.fields
    if select is None:
        for key, value in fields.items():
            if key != "internetMessageHeaders":
                out[key] = value
        out["parentFolderId"] = msg.folder.id
        out["changeKey"] = msg.change_key
        return out
    for key in select:
        if key == "parentFolderId":
            out[key] = msg.folder.id
        elif key == "changeKey":
            out[key] = msg.change_key
        elif key != "id":
            out[key] = fields.get(key)
    return out


def _literal(raw: str) -> Any:
    if raw.startswith("'") and raw.endswith("'") and len(raw) >= 2:
        return raw[1:-1].replace("''", "'")
    low = raw.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "null":
        return None
    if _DATETIME.match(raw):
        when = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        return float(raw)
    except ValueError:
        raise bad_request(f"Invalid filter clause: unsupported literal {raw}.") from None


def _value(fields: dict[str, Any], path: str) -> Any:
    value: Any = fields
    for part in path.split("/"):
        if not isinstance(value, dict):
            return None
        value = value.get(part) if part in value else value.get(_CANONICAL.get(part.lower(), part))
    if isinstance(value, str) and path.lower().endswith("address"):
        return value.lower()
    return value


def parse_filter(raw: str | None) -> list[tuple[str, str, Any]]:
    if not raw:
        return []
    clauses = []
    for text in _AND.split(raw.strip()):
        found = _CLAUSE.match(text)
        if found is None:
            raise bad_request(f"Invalid filter clause: {text}")
        prop, op, literal = found.groups()
        value = _literal(literal)
        if isinstance(value, str) and prop.lower().endswith("address"):
            value = value.lower()
        clauses.append((prop, op.lower(), value))
    return clauses


def matches(msg: Message, clauses: list[tuple[str, str, Any]]) -> bool:
    return all(_compare(op, _value(msg.fields, prop), value) for prop, op, value in clauses)


def _compare(op: str, actual: Any, literal: Any) -> bool:
    try:
        return bool(_OPS[op](actual, literal))
    except TypeError:  # a property of another type than the literal (text vs number) matches not
        return False


def parse_orderby(raw: str | None) -> list[tuple[str, bool]]:
    if not raw:
        return []
    out = []
    for item in raw.split(","):
        words = item.split()
        if not words or len(words) > 2:
            raise bad_request(f"Invalid $orderby: {raw}")
        descending = len(words) == 2 and words[1].lower() == "desc"
        out.append((words[0], descending))
    return out


def check_efficient(filters: list[tuple[str, str, Any]], orderby: list[tuple[str, bool]]) -> None:
    """Exchange wants the $orderby properties first in $filter, in the same order."""
    if not filters or not orderby:
        return
    first = [p.lower() for p, _, _ in filters[: len(orderby)]]
    if first != [p.lower() for p, _ in orderby]:
        raise GraphHTTPError(
            400,
            "InefficientFilter",
            "The restriction or sort order is too complex for this operation.",
        )


def ordered(messages: list[Message], orderby: list[tuple[str, bool]]) -> list[Message]:
    if not orderby:
        return sorted(messages, key=lambda m: m.sort_key, reverse=True)
    out = list(messages)
    for prop, descending in reversed(orderby):
        if prop.lower() == "receiveddatetime":
            out.sort(key=lambda m: m.sort_key, reverse=descending)
        else:
            out.sort(key=lambda m, p=prop: str(_value(m.fields, p) or ""), reverse=descending)  # type: ignore[misc]
    return out


def page_bounds(query: dict[str, str], default_top: int = 10) -> tuple[int, int]:
    try:
        top = int(query.get("$top", default_top))
        skip = int(query.get("$skip", 0))
    except ValueError:
        raise bad_request("$top and $skip must be integers.") from None
    if top < 1 or skip < 0:
        raise bad_request("$top must be positive and $skip not negative.")
    return min(top, 1000), skip


def next_link(base: str, path: str, query: dict[str, str], skip: int) -> str:
    params = dict(query)
    params["$skip"] = str(skip)
    return f"{base}/{path.strip('/')}?{urlencode(params, quote_via=quote)}"


def paged(
    items: list[Any],
    draw: Callable[[Any], dict[str, Any]],
    query: dict[str, str],
    base: str,
    path: str,
    context: str,
) -> dict[str, Any]:
    """One page of ``items``, each drawn only when it is on the page."""
    top, skip = page_bounds(query)
    page = [draw(item) for item in items[skip : skip + top]]
    body: dict[str, Any] = {"@odata.context": context, "value": page}
    if skip + top < len(items):
        body["@odata.nextLink"] = next_link(base, path, query, skip + top)
    return body
