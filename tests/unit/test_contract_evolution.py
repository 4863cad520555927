"""The rule for evolving contracts (docs/publishing-jobs.md, "Evolving the contracts"): within a
version only optional fields are added; mailpipe's own contracts are read tolerantly, the job
contract of other systems strictly."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from libs.common.contracts import CONTRACTS, Contract, OutboundEmail
from libs.common.errors import ContractError
from libs.common.schema_compat import breaking_changes
from libs.common.schema_export import (
    SCHEMA_DIR,
    BreakingChange,
    json_schema,
    rendered,
    schema_file_name,
    write_all,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"
NOW = "2026-11-26T15:00:00Z"
ADDRESS = {"address": "jane@customer.example", "name": "Jane"}
BLOB = {"sha256": "ab" * 32, "size": 3}
#: A valid message of every contract between mailpipe's own services, by schema name.
INTERNAL: dict[str, dict[str, Any]] = {
    "mailpipe.inbound_email.v1": {
        "mailbox": "support@contoso.com",
        "graph_id": "AAMk=",
        "received_at": NOW,
        "fetched_at": NOW,
        "from": ADDRESS,
        "to": [ADDRESS],
        "body": {"text": "It jams."},
        "headers": {"in_reply_to": "<a@customer.example>"},
        "attachments": [{"name": "a.txt", "blob": BLOB}],
        "raw_mime": BLOB,
    },
    "mailpipe.processed_email.v1": {
        "mailbox": "support@contoso.com",
        "graph_id": "AAMk=",
        "outcome": "created",
        "record_id": 1,
        "processed_at": NOW,
    },
    "mailpipe.outbound_result.v1": {
        "job_id": "j-1",
        "status": "sent",
        "to": [ADDRESS],
        "finished_at": NOW,
    },
    "mailpipe.record_event.v1": {
        "event": "created",
        "record_id": 1,
        "mailbox": "support@contoso.com",
        "requester": ADDRESS,
        "message_count": 1,
        "change": "new_request",
        "occurred_at": NOW,
    },
    "mailpipe.quarantined_email.v1": {
        "mailbox": "support@contoso.com",
        "graph_id": "AAMk=",
        "reason": "unreadable:http_500",
        "quarantined_at": NOW,
    },
    "mailpipe.mailbox_changed.v1": {
        "mailbox": "support@contoso.com",
        "reason": "created",
        "subscription_id": "sub-1",
        "occurred_at": NOW,
    },
}
# Version 2 of the mail contracts: the provider and its id instead of Graph's id.
for _name in ("inbound_email", "processed_email", "quarantined_email"):
    _v1 = dict(INTERNAL[f"mailpipe.{_name}.v1"])
    _v1["message_id"] = _v1.pop("graph_id")
    INTERNAL[f"mailpipe.{_name}.v2"] = {**_v1, "provider": "microsoft"}
# Version 2 of RecordEvent: an agent's status and assignment changes too.
INTERNAL["mailpipe.record_event.v2"] = {
    **INTERNAL["mailpipe.record_event.v1"],
    "event": "updated",
    "change": "assigned",
    "assigned_to": "bob",
    "changed_by": "alice",
}
JOB = {
    "job_id": "j-1",
    "mailbox": "support@contoso.com",
    "to": [ADDRESS],
    "subject": "Your printer",
    "text": "It works again.",
}


def with_unknown_fields(data: Any) -> Any:
    """``data`` with a field no model knows added to every object of a model (dict-valued
    fields such as ``headers.other`` are maps, not models, and stay as they are)."""
    if isinstance(data, list):
        return [with_unknown_fields(item) for item in data]
    if not isinstance(data, dict):
        return data
    out = {
        k: v if k in ("other", "x_mailpipe") else with_unknown_fields(v) for k, v in data.items()
    }
    return {**out, "added_in_a_later_release": {"any": ["value"]}}


# --- the committed schemas: what a version has promised ----------------------------------------


@pytest.mark.parametrize("schema", sorted(CONTRACTS))
def test_each_contract_is_compatible_with_its_committed_schema(schema: str) -> None:
    contract = CONTRACTS[schema]
    path = DOCS / SCHEMA_DIR / schema_file_name(contract)
    committed = json.loads(path.read_text(encoding="utf-8"))
    changes = breaking_changes(committed, json_schema(contract))
    assert changes == [], (
        f"{schema} changed incompatibly: {changes}. Within a version only optional fields may "
        "be added; give the contract a new version (docs/publishing-jobs.md)"
    )


def _schema() -> dict[str, Any]:
    return copy.deepcopy(json_schema(CONTRACTS["mailpipe.inbound_email.v1"]))


def test_an_added_optional_field_and_new_words_are_compatible() -> None:
    old, new = _schema(), _schema()
    new["properties"]["priority"] = {"type": "integer", "default": 0}
    new["$defs"]["Address"]["properties"]["kind"] = {"type": "string", "default": "person"}
    new["properties"]["subject"]["description"] = "What the mail is about"
    assert breaking_changes(old, new) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: s["properties"].pop("folder"), "$.folder: property removed"),
        (lambda s: s["properties"].update(folder={"type": "integer"}), "$.folder.type"),
        (lambda s: s["required"].append("subject"), "$.subject: optional property made required"),
        (
            lambda s: (
                s["properties"].update(tenant={"type": "string"}),
                s["required"].append("tenant"),
            ),
            "$.tenant: new required property",
        ),
        (lambda s: s["$defs"]["Address"]["properties"].pop("name"), "$.from.anyOf[0].name"),
        (lambda s: s["$defs"]["Body"].update(additionalProperties=False), "newly refused"),
        (lambda s: s["properties"]["subject"].update(maxLength=200), "$.subject.maxLength"),
        (lambda s: s["properties"]["to"].update(maxItems=5), "$.to.maxItems"),
    ],
    ids=[
        "removed",
        "retyped",
        "made-required",
        "new-required",
        "nested",
        "refused",
        "limit",
        "items",
    ],
)
def test_a_breaking_change_is_named(change: Any, expected: str) -> None:
    old, new = _schema(), _schema()
    change(new)
    changes = breaking_changes(old, new)
    assert changes and any(expected in c for c in changes), changes


def test_make_schema_refuses_to_replace_a_version_by_an_incompatible_one(tmp_path: Path) -> None:
    write_all(tmp_path)
    rel = f"{SCHEMA_DIR}/{schema_file_name(OutboundEmail)}"
    committed = json.loads((tmp_path / rel).read_text())
    committed["properties"]["priority"] = {"type": "integer"}  # as if v1 had promised it
    (tmp_path / rel).write_text(json.dumps(committed))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.json")}
    with pytest.raises(BreakingChange, match=r"\$\.priority: property removed.*new version"):
        write_all(tmp_path)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.json")} == before, "nothing written"
    (tmp_path / rel).unlink()  # a new version is a new file: nothing to be compatible with
    assert len(write_all(tmp_path)) == len(rendered())


# --- reading: tolerant between mailpipe's services, strict for other systems' jobs -------------


def test_every_contract_is_either_internal_or_the_strict_job_contract() -> None:
    strict = {s for s, c in CONTRACTS.items() if c.UNKNOWN_FIELDS == "forbid"}
    assert strict == {OutboundEmail.SCHEMA}
    assert set(INTERNAL) == set(CONTRACTS) - strict, "give each new contract an example here"


@pytest.mark.parametrize("schema", sorted(INTERNAL))
def test_an_internal_contract_ignores_fields_it_does_not_know(schema: str) -> None:
    contract: type[Contract] = CONTRACTS[schema]
    plain = contract.from_json(json.dumps(INTERNAL[schema]))
    newer = json.dumps(with_unknown_fields(INTERNAL[schema]))
    assert "added_in_a_later_release" in newer
    read = contract.from_json(newer)
    assert read == plain
    assert b"added_in_a_later_release" not in read.to_json(), "publishes only its own fields"


@pytest.mark.parametrize("schema", sorted(INTERNAL))
def test_an_internal_contract_built_in_code_still_refuses_a_misspelt_field(schema: str) -> None:
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        CONTRACTS[schema].model_validate({**INTERNAL[schema], "mailbx": "typo"})


@pytest.mark.parametrize(
    ("job", "where"),
    [
        ({**JOB, "colour": "red"}, "colour"),
        ({**JOB, "to": [{**ADDRESS, "nmae": "Jane"}]}, "to.0.nmae"),
    ],
)
def test_the_job_contract_refuses_a_field_it_does_not_know(job: dict[str, Any], where: str) -> None:
    with pytest.raises(ContractError, match=rf"{where}: Extra inputs are not permitted"):
        OutboundEmail.from_json(json.dumps(job))
