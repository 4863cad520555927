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
        attempt=policy.attempt_of(headers),
        redelivered=redelivered(message),
        routing_key=str(headers.get(policy.HEADER_ROUTING_KEY) or info.get("routing_key") or ""),
        queue=queue,
    )


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
