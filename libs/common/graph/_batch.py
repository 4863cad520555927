"""JSON batching: at most 20 requests per ``$batch``, per-item status, per-item retries.

Graph answers a batch with 200 even when items fail, in any order, and throttles each item
on its own; so outcomes are matched by id and throttled items are sent again (in a new
batch) after their Retry-After. The helpers are pure; :func:`run_batch` takes the one
function that posts a batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from libs.common.graph._retry import RetryPolicy, parse_retry_after
from libs.common.graph.errors import GraphNotFound, error_from_response
from libs.common.graph.models import BatchOutcome, BatchRequest, BatchStatus

MAX_BATCH = 20
_RETRY_STATUS = {429, 500, 502, 503, 504}


def chunks(items: Sequence[BatchRequest], size: int = MAX_BATCH) -> Iterator[list[BatchRequest]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def payload(items: Sequence[BatchRequest], prefer: str) -> dict[str, Any]:
    """The ``$batch`` body; every item asks for immutable ids like any other request."""
    requests = []
    for item in items:
        entry: dict[str, Any] = {
            "id": item.id,
            "method": item.method,
            "url": item.url,
            "headers": {"Prefer": prefer},
        }
        if item.body is not None:
            entry["body"] = item.body
            entry["headers"]["Content-Type"] = "application/json"
        requests.append(entry)
    return {"requests": requests}


def _header(headers: Any, name: str) -> str | None:
    if not isinstance(headers, Mapping):
        return None
    for key, value in headers.items():
        if str(key).lower() == name.lower():
            return str(value)
    return None


def outcome(item: Mapping[str, Any]) -> BatchOutcome:
    """Classify one item of a ``$batch`` response."""
    status = int(item.get("status") or 0)
    item_id = str(item.get("id"))
    body = item.get("body")
    if 200 <= status < 300:
        return BatchOutcome(item_id, status, "ok", body)
    err = error_from_response(
        status,
        body if isinstance(body, Mapping) else None,
        request_id=_header(item.get("headers"), "request-id"),
        retry_after_s=parse_retry_after(_header(item.get("headers"), "Retry-After")),
        what=f"batch item {item_id}",
    )
    # Only a missing *item* is "not found"; a 404 for an unknown mailbox is a real error.
    kind: BatchStatus = "not_found" if isinstance(err, GraphNotFound) else "error"
    return BatchOutcome(item_id, status, kind, body, err)


def parse_response(data: Any, sent: Sequence[BatchRequest]) -> dict[str, BatchOutcome]:
    """Outcomes by id; an item Graph did not answer is a retryable 503."""
    got: dict[str, BatchOutcome] = {}
    responses = data.get("responses") if isinstance(data, Mapping) else None
    for item in responses or []:
        if isinstance(item, Mapping):
            result = outcome(item)
            got[result.id] = result
    for req in sent:
        if req.id not in got:
            got[req.id] = outcome({"id": req.id, "status": 503})
    return got


def should_retry(result: BatchOutcome) -> bool:
    return result.status in _RETRY_STATUS


def run_batch(
    items: Sequence[BatchRequest],
    post: Callable[[dict[str, Any]], Any],
    *,
    prefer: str,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> list[BatchOutcome]:
    """Send ``items`` in batches of ≤ 20 and retry throttled items; outcomes in input order."""
    ids = [item.id for item in items]
    if len(set(ids)) != len(ids):
        raise ValueError("batch request ids must be unique")
    results: dict[str, BatchOutcome] = {}
    pending = list(items)
    started = clock()
    round_no = 0
    waited = 0.0
    while pending:
        round_no += 1
        for chunk in chunks(pending):
            results.update(parse_response(post(payload(chunk, prefer)), chunk))
        retry = [item for item in pending if should_retry(results[item.id])]
        if not retry:
            break
        errors = [results[i.id].error for i in retry]
        known = [e.retry_after_s for e in errors if e is not None and e.retry_after_s is not None]
        wait = policy.delay(round_no, max(known) if known else None)
        if max(clock() - started, waited) + wait > policy.budget_s:
            break  # the retryable outcomes stay as they are: the caller sees "error"
        sleep(wait)
        waited += wait
        pending = retry
    return [results[i] for i in ids]
