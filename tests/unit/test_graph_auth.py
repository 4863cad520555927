"""Token errors map to typed permanent errors with Entra hints; secrets never show."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from libs.common.graph.auth import (
    TokenSource,
    _credential,
    _requests_session,
    error_from_token_result,
)
from libs.common.graph.errors import GraphAuthError, GraphUnavailable
from libs.common.settings import MailboxConfig

from .graph_helpers import SECRET, configs


@pytest.mark.parametrize(
    ("aadsts", "hint_word"),
    [
        (7000215, "Value (not its Secret ID)"),
        (7000222, "expired"),
        (700016, "client_id"),
        (90002, "tenant_id"),
        (65001, "admin consent"),
        (700027, "certificate"),
    ],
)
def test_aadsts_codes_become_auth_errors_with_entra_hints(aadsts: int, hint_word: str) -> None:
    result = {
        "error": "invalid_client",
        "error_description": f"AADSTS{aadsts}: something about {SECRET}.\r\nTrace ID: 1",
        "error_codes": [aadsts],
    }
    err = error_from_token_result(result, secret=SECRET)
    assert isinstance(err, GraphAuthError) and not err.retryable
    assert err.code == f"AADSTS{aadsts}"
    assert err.hint and hint_word in err.hint
    assert SECRET not in str(err) and SECRET not in repr(err)
    assert "Trace ID" not in str(err)


def test_unknown_and_transient_token_errors() -> None:
    err = error_from_token_result({"error": "temporarily_unavailable"}, secret=None)
    assert isinstance(err, GraphUnavailable) and err.retryable
    err = error_from_token_result({"error": "invalid_request", "error_codes": [9999]}, secret=None)
    assert isinstance(err, GraphAuthError) and err.code == "AADSTS9999"


def test_token_source_repr_names_the_authority_only() -> None:
    graph, box = configs()
    text = repr(TokenSource(graph, box))
    assert "login.test/tenant-1" in text and SECRET not in text


def test_credentials_are_identified_by_digest_not_value(tmp_path: Path) -> None:
    _, box = configs()
    value, digest = _credential(box)
    assert value == SECRET and SECRET not in digest
    other = box.model_copy(update={"client_secret": SecretStr("another")})
    assert _credential(other)[1] != digest
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    key.write_text("KEY")
    cert.write_text("CERT")
    cert_box = MailboxConfig(
        address="a@contoso.test",
        tenant_id="t",
        client_id="c",
        certificate_file=cert,
        certificate_key_file=key,
    )
    value, _ = _credential(cert_box)
    assert value == {"private_key": "KEY", "public_certificate": "CERT"}


def test_msal_session_pins_the_ca_bundle_against_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    bundle = tmp_path / "ca.pem"
    session = _requests_session(bundle, 5.0)
    settings = session.merge_environment_settings("https://login.test/t", {}, None, None, None)
    assert settings["verify"] == str(bundle)
