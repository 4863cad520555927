"""Helpers for tests that talk to the Graph simulator directly (no mailpipe Graph client).

``graph(sim)`` is a plain httpx client with a token and ``Prefer: IdType="ImmutableId"``;
``schema_validator(name)`` checks a response against the component schemas of the Graph
OpenAPI descriptions in ../shared/reference, converted from OpenAPI 3.0 to JSON Schema.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import yaml

from libs.graphsim.testing import SimHandle

REFERENCE = Path("/work/shared/reference")
IMMUTABLE = {"Prefer": 'IdType="ImmutableId"'}


def token(sim: SimHandle) -> str:
    with httpx.Client(verify=sim.ssl_context()) as client:
        r = client.post(
            f"{sim.authority_host}/{sim.tenant_id}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": sim.client_id,
                "client_secret": sim.client_secret,
                "scope": "https://graph.microsoft.com/.default",
            },
        )
    r.raise_for_status()
    return str(r.json()["access_token"])


def graph(sim: SimHandle, *, immutable: bool = True) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token(sim)}", **(IMMUTABLE if immutable else {})}
    return httpx.Client(
        base_url=sim.base_url + "/", verify=sim.ssl_context(), headers=headers, timeout=30
    )


def seed(sim: SimHandle, raw: bytes, mailbox: str = "support@contoso.com", **params: str) -> str:
    with sim.control() as c:
        r = c.post(f"/_sim/mailboxes/{mailbox}/messages", content=raw, params=params)
    r.raise_for_status()
    return str(r.json()["id"])


def _convert(node: Any) -> Any:
    """OpenAPI 3.0 schema → JSON Schema: ``nullable`` becomes a null alternative.

    ``additionalProperties: {type: object}`` is dropped: the generator emits it on every
    part of an ``allOf`` to mean "open type", and in JSON Schema it would instead reject the
    properties declared by the other parts.
    """
    if isinstance(node, list):
        return [_convert(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _convert(v) for k, v in node.items() if k not in ("additionalProperties", "nullable")}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


@functools.cache
def _components() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for name in ("graph-openapi-Users.Actions.yml", "graph-openapi-Mail.yml"):
        with (REFERENCE / name).open(encoding="utf-8") as f:
            doc = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        schemas.update(doc["components"]["schemas"])
    return {"schemas": _convert(schemas)}


def schema_validator(name: str) -> jsonschema.Draft7Validator:
    """A validator for ``#/components/schemas/<name>`` (e.g. ``microsoft.graph.message``)."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": _components()}
    return jsonschema.Draft7Validator(schema)


def assert_shape(name: str, instance: Any) -> None:
    errors = sorted(schema_validator(name).iter_errors(instance), key=lambda e: e.path)
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
