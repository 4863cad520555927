"""Reading a received kombu message into plain data, and the properties of its copies.

Works for both transports: py-amqp messages and kombu's virtual (``memory://``) ones keep
``content_type`` and the body slightly differently.
"""

from __future__ import annotations

from typing import Any

from libs.common.broker import policy
from libs.common.broker.policy import Delivery

CONTENT_TYPE = "application/json"
PERSISTENT = 2


def body_of(message: Any) -> bytes:
    body = message.body
    return body if isinstance(body, bytes) else str(body).encode("utf-8")


def redelivered(message: Any) -> bool:
    """The broker delivered this message before (it was handed back unsettled)."""
    info = message.delivery_info or {}
    return bool(info.get("redelivered") or getattr(message, "redelivered", False))


def delivery_of(message: Any, queue: str) -> Delivery:
    headers = dict(message.headers or {})
    props = message.properties or {}
    info = message.delivery_info or {}
    return Delivery(
        message_id=str(props.get("message_id") or ""),
        correlation_id=str(props.get("correlation_id") or ""),
        headers=headers,
        attempt=attempt_read(headers, info),
        redelivered=redelivered(message),
        routing_key=first_routing_key(headers, info),
        queue=queue,
        content_type=str(message.content_type or ""),
        content_encoding=str(message.content_encoding or ""),
    )


def first_routing_key(headers: dict[str, Any], info: dict[str, Any]) -> str:
    """The routing key the message was published with. Delivered from a named exchange, it
    is the delivery's own key: a header claiming another is the publisher's, and a job's key
    is its authority (docs/publishing-jobs.md). Routed back through the default exchange (a
    retry tier, a dead letter moved back), the header we wrote on its first delivery."""
    if info.get("exchange"):
        return str(info.get("routing_key") or "")
    return str(headers.get(policy.HEADER_ROUTING_KEY) or info.get("routing_key") or "")


def attempt_read(headers: dict[str, Any], info: dict[str, Any]) -> int:
    """The attempt a delivery is. Only our own copies (a retry tier, a replay, a hand-back),
    routed through the default exchange, carry a count we wrote; on a message delivered
    from a named exchange the header is the publisher's, and believing it would let a
    publisher skip a job's retries or have it given up at once (docs/publishing-jobs.md)."""
    return 1 if info.get("exchange") else policy.attempt_of(headers)


def copy_properties(message: Any, delivery: Delivery) -> dict[str, Any]:
    """Properties of a retry or dead-letter copy: the same ids and type, so that consumers
    can deduplicate and operators can follow one message through its attempts."""
    out: dict[str, Any] = {
        "message_id": delivery.message_id,
        "correlation_id": delivery.correlation_id,
        "content_type": message.content_type or CONTENT_TYPE,
        "content_encoding": message.content_encoding or "utf-8",
        "delivery_mode": PERSISTENT,
    }
    kind = (message.properties or {}).get("type")
    if kind:
        out["type"] = kind
    return out
