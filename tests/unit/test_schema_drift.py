"""The committed JSON Schemas and AsyncAPI document must match the models."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from libs.common.contracts import CONTRACTS, CURRENT
from libs.common.schema_export import rendered, schema_file_name

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("rel", sorted(rendered()))
def test_committed_file_matches_models(rel: str) -> None:
    path = DOCS / rel
    assert path.is_file(), f"{path} is missing: run `make schema`"
    assert path.read_text(encoding="utf-8") == rendered()[rel], (
        f"{path} drifted from the models: run `make schema` and commit the result"
    )


def test_asyncapi_names_every_contract_and_queue() -> None:
    doc = json.loads((DOCS / "asyncapi.json").read_text())
    assert doc["asyncapi"] == "3.0.0"
    titles = {m["title"] for m in doc["components"]["messages"].values()}
    assert titles == set(CURRENT), "the contracts published today"
    addresses = {c["address"] for c in doc["channels"].values()}
    assert {"mailpipe.ticketer", "mailpipe.sender", "mailpipe.fetcher.processed"} <= addresses


@pytest.mark.parametrize("schema", sorted(CONTRACTS))
def test_schema_accepts_what_the_model_emits_and_rejects_bad_headers(schema: str) -> None:
    contract = CONTRACTS[schema]
    doc = json.loads((DOCS / "schemas" / schema_file_name(contract)).read_text())
    jsonschema.Draft202012Validator.check_schema(doc)
    if contract.__name__ == "OutboundEmail":
        validator = jsonschema.Draft202012Validator(doc)
        good = {
            "job_id": "j",
            "mailbox": "s@contoso.com",
            "subject": "s",
            "text": "t",
            "to": [{"address": "a@example.com"}],
        }
        model_json = json.loads(contract.model_validate(good).to_json())
        assert not list(validator.iter_errors(model_json))
        assert list(validator.iter_errors({**good, "subject": "a\r\nBcc: x@y.com"}))
        assert list(validator.iter_errors({**good, "headers": {"To": "x"}}))
        assert list(validator.iter_errors({**good, "to": [{"address": "nope"}]}))
