"""JSON Schemas of the contracts and the AsyncAPI 3.0 document of the topology.

Both are generated from the models and ``broker/names.py`` (``mailpipe schema --out docs/``)
and committed; ``tests/unit/test_schema_drift.py`` fails when the committed files drift. A
committed schema is only ever replaced by a compatible one of the same version
(``libs/common/schema_compat.py``): a breaking change needs a new version, i.e. a new file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from libs.common.broker.names import DELIVERY_LIMIT, RETRY_DELAYS_S, Names, WorkQueue
from libs.common.contracts import (
    CONTRACTS,
    Contract,
    InboundEmail,
    MailboxChanged,
    OutboundEmail,
    OutboundResult,
    ProcessedEmail,
    QuarantinedEmail,
    RecordEvent,
)
from libs.common.schema_compat import breaking_changes

SCHEMA_DIR = "schemas"
ASYNCAPI_FILE = "asyncapi.json"

#: Every contract read today, earlier versions included: each has its committed schema.
_ALL: tuple[type[Contract], ...] = tuple(CONTRACTS.values())


def schema_file_name(contract: type[Contract]) -> str:
    """``mailpipe.outbound_email.v1`` → ``outbound_email.v1.json``."""
    return contract.SCHEMA.removeprefix("mailpipe.") + ".json"


def json_schema(contract: type[Contract]) -> dict[str, Any]:
    schema = contract.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://mailpipe.dev/schemas/{schema_file_name(contract)}"
    schema["title"] = contract.SCHEMA
    if contract.UNKNOWN_FIELDS == "ignore":
        # Its readers ignore fields they do not know: the published schema says so.
        for node in (schema, *schema.get("$defs", {}).values()):
            if "properties" in node and node.get("additionalProperties") is False:
                del node["additionalProperties"]
    return schema


class BreakingChange(Exception):
    """A contract changed incompatibly without a new version in its ``schema`` name."""


def check_compatible(rel: str, committed: str, text: str) -> None:
    """Raise :class:`BreakingChange` when ``text`` may not replace ``committed`` (the same
    version's schema file ``rel``)."""
    changes = breaking_changes(json.loads(committed), json.loads(text))
    if changes:
        raise BreakingChange(
            f"{rel}: {'; '.join(changes)}. Within a version only optional fields may be "
            "added: give the contract a new version (docs/publishing-jobs.md#evolving-the-"
            "contracts)"
        )


# (channel id, exchange kind, routing key pattern, contract, who publishes, who consumes)
_CHANNELS: tuple[tuple[str, str, str, type[Contract], str, str], ...] = (
    ("inboundEmail", "inbound", "email.{mailbox}", InboundEmail, "fetcher", "ticketer"),
    ("processedEmail", "processed", "processed.{mailbox}", ProcessedEmail, "ticketer", "fetcher"),
    ("outboundEmail", "outbound", "outbound.{mailbox}", OutboundEmail, "any system", "sender"),
    ("outboundResult", "events", "outbound.{status}", OutboundResult, "sender", "anyone"),
    ("recordEvent", "events", "record.{event}", RecordEvent, "ticketer or console", "anyone"),
    ("mailboxChanged", "events", "changed.{mailbox}", MailboxChanged, "notify", "fetcher"),
    (
        "quarantinedEmail",
        "inbound",
        "quarantined.{mailbox}",
        QuarantinedEmail,
        "fetcher",
        "ticketer",
    ),
)


def _queue_binding(queue: WorkQueue) -> dict[str, Any]:
    return {
        "is": "queue",
        "queue": {
            "name": queue.name,
            "durable": True,
            "exclusive": False,
            "autoDelete": False,
            "vhost": "/",
        },
        "bindingVersion": "0.3.0",
    }


def asyncapi(names: Names | None = None) -> dict[str, Any]:
    """The AsyncAPI 3.0 document for the default namespace."""
    names = names or Names()
    queue_for = {
        "inboundEmail": names.ticketer,
        "processedEmail": names.fetcher_processed,
        "outboundEmail": names.sender,
        "outboundResult": names.ticketer_results,
        "quarantinedEmail": names.ticketer_quarantine,
    }
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for cid, kind, key, contract, producer, consumer in _CHANNELS:
        name = contract.__name__
        schemas[name] = {"$ref": f"./{SCHEMA_DIR}/{schema_file_name(contract)}"}
        messages[name] = {
            "name": name,
            "title": contract.SCHEMA,
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "bindings": {
                "amqp": {
                    "contentEncoding": "utf-8",
                    "messageType": contract.SCHEMA,
                    "bindingVersion": "0.3.0",
                }
            },
            "headers": {
                "type": "object",
                "description": (
                    "AMQP properties: message_id (unique), correlation_id (the email's or "
                    "job's id, carried through every hop), type (the schema name), "
                    "content_type application/json, delivery_mode 2 (persistent)."
                ),
            },
        }
        channel: dict[str, Any] = {
            "address": key,
            "description": f"Exchange `{names.exchange(kind)}` (topic, durable); "
            f"published by {producer}, consumed by {consumer}.",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {
                "amqp": {
                    "is": "routingKey",
                    "exchange": {
                        "name": names.exchange(kind),
                        "type": "topic",
                        "durable": True,
                        "autoDelete": False,
                        "vhost": "/",
                    },
                    "bindingVersion": "0.3.0",
                }
            },
        }
        channels[cid] = channel
        operations[f"publish{name}"] = {
            "action": "send",
            "summary": f"{producer} publishes {name}",
            "channel": {"$ref": f"#/channels/{cid}"},
            "bindings": {"amqp": {"deliveryMode": 2, "mandatory": kind != "events"}},
        }
        if cid in queue_for:
            queue = queue_for[cid]
            channels[f"{cid}Queue"] = {
                "address": queue.name,
                "description": (
                    f"Quorum queue bound to `{queue.exchange}` with `{queue.binding_key}`; "
                    f"x-delivery-limit {DELIVERY_LIMIT}; dead letters in `{queue.dead}`; "
                    f"retry tiers {', '.join(queue.retries)} "
                    f"({', '.join(f'{d}s' for d in RETRY_DELAYS_S)})."
                ),
                "messages": {name: {"$ref": f"#/components/messages/{name}"}},
                "bindings": {"amqp": _queue_binding(queue)},
            }
            operations[f"consume{name}"] = {
                "action": "receive",
                "summary": f"{consumer if consumer != 'anyone' else 'ticketer'} consumes {name}",
                "channel": {"$ref": f"#/channels/{cid}Queue"},
                "bindings": {"amqp": {"ack": True}},
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "mailpipe",
            "version": "1.0.0",
            "description": (
                "Messages between mailpipe's fetcher, ticketer and sender, and the public "
                "OutboundEmail job contract for other systems. Every name starts with the "
                "namespace (MAILPIPE_NAMESPACE, default `mailpipe`), shown here for the default."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "rabbitmq": {
                "host": "rabbitmq:5672",
                "protocol": "amqp",
                "protocolVersion": "0-9-1",
                "description": "RabbitMQ 3.10 or later",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def rendered() -> dict[str, str]:
    """Relative path → file text for everything ``write_all`` writes."""
    files = {f"{SCHEMA_DIR}/{schema_file_name(c)}": _dump(json_schema(c)) for c in _ALL}
    files[ASYNCAPI_FILE] = _dump(asyncapi())
    return files


def write_all(out: Path) -> list[Path]:
    """Write every file; refuses (:class:`BreakingChange`, nothing written) to replace a
    committed contract schema by an incompatible one of the same version."""
    files = rendered()
    for rel, text in files.items():
        path = out / rel
        if rel.startswith(f"{SCHEMA_DIR}/") and path.is_file():
            check_compatible(rel, path.read_text(encoding="utf-8"), text)
    written = []
    for rel, text in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
