"""Version 2 of the mail contracts beside version 1 (docs/publishing-jobs.md, "Evolving the
contracts"): a v1 message still queued, parked or retried is read as v2, and a v2 message can
be said in v1 for a consumer not yet upgraded."""

from __future__ import annotations

import json

import pytest

from libs.common.contracts import (
    CONTRACTS,
    Contract,
    InboundEmail,
    InboundEmailV1,
    ProcessedEmail,
    QuarantinedEmail,
)
from libs.common.errors import ContractError
from tests.unit.test_contract_evolution import INTERNAL, with_unknown_fields

CURRENT: list[type[Contract]] = [InboundEmail, ProcessedEmail, QuarantinedEmail]


def _v1_body(contract: type[Contract]) -> dict[str, object]:
    assert contract.PREVIOUS is not None
    return {"schema": contract.PREVIOUS.SCHEMA, **INTERNAL[contract.PREVIOUS.SCHEMA]}


@pytest.mark.parametrize("contract", CURRENT, ids=lambda c: c.SCHEMA)
def test_a_version_1_message_is_read_as_version_2_from_microsoft(contract: type[Contract]) -> None:
    body = _v1_body(contract)
    read = contract.from_json(json.dumps(body))
    assert type(read) is contract and read.SCHEMA.endswith(".v2")
    assert (read.provider, read.message_id) == ("microsoft", body["graph_id"])  # type: ignore[attr-defined]
    same = contract.from_json(json.dumps({**INTERNAL[contract.SCHEMA], "schema": contract.SCHEMA}))
    assert read == same, "every other field as version 1 said it"


@pytest.mark.parametrize("contract", CURRENT, ids=lambda c: c.SCHEMA)
def test_version_1_is_read_tolerantly_too(contract: type[Contract]) -> None:
    body = with_unknown_fields(_v1_body(contract))
    read = contract.from_json(json.dumps(body))
    assert read.message_id == "AAMk="  # type: ignore[attr-defined]


@pytest.mark.parametrize("contract", CURRENT, ids=lambda c: c.SCHEMA)
def test_a_broken_version_1_message_is_refused_naming_version_1(contract: type[Contract]) -> None:
    body = {**_v1_body(contract), "mailbox": "not an address"}
    with pytest.raises(ContractError, match=r"\.v1: mailbox: not an email address"):
        contract.from_json(json.dumps(body))


@pytest.mark.parametrize("contract", CURRENT, ids=lambda c: c.SCHEMA)
def test_a_microsoft_message_downgrades_and_upgrades_unchanged(contract: type[Contract]) -> None:
    message = contract.from_json(json.dumps(INTERNAL[contract.SCHEMA]))
    older = message.downgrade()
    assert older is not None and older.SCHEMA == contract.PREVIOUS.SCHEMA  # type: ignore[union-attr]
    wire = json.loads(older.to_json())
    assert wire["graph_id"] == "AAMk=" and "message_id" not in wire and "provider" not in wire
    assert contract.from_json(older.to_json()) == message


@pytest.mark.parametrize("contract", CURRENT, ids=lambda c: c.SCHEMA)
def test_another_providers_message_cannot_be_said_in_version_1(contract: type[Contract]) -> None:
    message = contract.model_validate({**INTERNAL[contract.SCHEMA], "provider": "google"})
    assert message.downgrade() is None


def test_the_provider_is_an_open_token_and_unknown_versions_are_refused() -> None:
    base = INTERNAL[InboundEmail.SCHEMA]
    assert InboundEmail.model_validate({**base, "provider": "google"}).provider == "google"
    for bad in ("", "Microsoft", "ms graph", "x" * 33):
        with pytest.raises(ValueError, match="provider"):
            InboundEmail.model_validate({**base, "provider": bad})
    with pytest.raises(ContractError, match="schema"):
        InboundEmail.from_json(json.dumps({**base, "schema": "mailpipe.inbound_email.v3"}))


def test_both_versions_are_registered_and_only_the_current_one_is_built() -> None:
    assert CONTRACTS["mailpipe.inbound_email.v1"] is InboundEmailV1
    assert InboundEmail.PREVIOUS is InboundEmailV1 and InboundEmailV1.PREVIOUS is None
    with pytest.raises(NotImplementedError):
        InboundEmail.model_validate(INTERNAL[InboundEmail.SCHEMA]).upgrade()
