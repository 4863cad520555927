"""JSON batching: up to 20 requests in one POST, each routed, authorised, throttled and
answered on its own. The batch itself is 200 even when items fail; items come back in any
order; an item whose ``dependsOn`` failed gets 424."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from libs.graphsim.errors import GraphHTTPError, bad_request
from libs.graphsim.router import (
    GraphRequest,
    GraphResponse,
    error_response,
    mailbox_key,
    resolve,
    run,
)
from libs.graphsim.world import World

MAX_ITEMS = 20


def _validate(items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list) or not items:
        raise bad_request("Invalid batch payload format: 'requests' must be a non-empty array.")
    if len(items) > MAX_ITEMS:
        raise bad_request(f"Too many requests in batch. Max allowed requests is {MAX_ITEMS}.")
    ids = [str(i.get("id", "")) if isinstance(i, dict) else "" for i in items]
    if "" in ids or len(set(ids)) != len(ids):
        raise bad_request("Every batch request needs a unique, non-empty id.")
    for item in items:
        if not item.get("method") or not item.get("url"):
            raise bad_request(f"Batch request {item['id']} needs a method and a url.")
        for dep in item.get("dependsOn") or []:
            if str(dep) not in ids:
                raise bad_request(f"Batch request {item['id']} depends on unknown id {dep}.")
    return items


def _sub_request(outer: GraphRequest, item: dict[str, Any]) -> GraphRequest:
    url = urlsplit(str(item["url"]))
    path = unquote(url.path).lstrip("/")  # as the server decodes a top-level request path
    if path.lower().startswith("v1.0/"):
        path = path[5:]
    headers = {str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()}
    body = item.get("body")
    raw = json.dumps(body).encode() if isinstance(body, dict | list) else str(body or "").encode()
    if body is not None and "content-type" not in headers:
        headers["content-type"] = "application/json"
    return GraphRequest(
        method=str(item["method"]).upper(),
        path=path,
        query=dict(parse_qsl(url.query)),
        headers=headers,
        body=raw,
        app=outer.app,
        root_url=outer.root_url,
    )


def _execute(world: World, req: GraphRequest, request_id: str) -> tuple[GraphResponse, str]:
    template = f"{req.method} ?"
    try:
        if req.path.lower().startswith("$batch"):
            raise bad_request("A batch cannot contain another batch.")
        call = resolve(world, req)
        template = call.template
        box = mailbox_key(call)
        if box is not None:
            world.limiter.spend(req.app.client_id, box)
        resp = run(world, call)
        if resp.deferred is not None:
            raise bad_request("The simulator does not take this request in a batch.")
        return resp, template
    except GraphHTTPError as exc:
        return error_response(exc, request_id, req.headers.get("client-request-id", "")), template


def _item_json(item_id: str, resp: GraphResponse) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item_id, "status": resp.status, "headers": dict(resp.headers)}
    if resp.body is not None:
        out["headers"].setdefault("Content-Type", resp.content_type)
        raw = resp.body
        out["body"] = base64.b64encode(raw).decode() if isinstance(raw, bytes) else raw
    return out


def execute_batch(world: World, outer: GraphRequest) -> GraphResponse:
    items = _validate(outer.json().get("requests"))
    results: dict[str, GraphResponse] = {}
    waiting = list(items)
    while waiting:
        ready = [i for i in waiting if all(str(d) in results for d in i.get("dependsOn") or [])]
        if not ready:
            raise bad_request("The dependsOn graph of this batch has a cycle.")
        for item in ready:
            item_id = str(item["id"])
            request_id = str(uuid.uuid4())
            failed = [d for d in item.get("dependsOn") or [] if results[str(d)].status >= 400]
            if failed:
                exc = GraphHTTPError(424, "FailedDependency", f"Dependency {failed[0]} failed.")
                resp, template = error_response(exc, request_id, ""), "dependsOn"
            else:
                resp, template = _execute(world, _sub_request(outer, item), request_id)
            resp.headers.setdefault("request-id", request_id)
            world.stats.record(template, resp.status, batch_item=True)
            results[item_id] = resp
            waiting.remove(item)
    answers = [_item_json(item_id, resp) for item_id, resp in results.items()]
    world.rng.shuffle(answers)  # Graph promises no order; clients must match by id
    return GraphResponse(200, {"responses": answers})
