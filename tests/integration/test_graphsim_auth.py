"""Real msal against the simulator's token endpoint, over HTTPS with the simulator's CA."""

from __future__ import annotations

import uuid

import httpx
import msal
import pytest
import requests

from libs.graphsim.testing import SimHandle
from tests.certs import self_signed

SCOPE = ["https://graph.microsoft.com/.default"]


def _session(sim: SimHandle) -> requests.Session:
    session = requests.Session()
    # REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE would silently replace `verify`; ignore the env.
    session.trust_env = False
    session.verify = str(sim.ca_bundle)
    return session


def _app(
    sim: SimHandle, credential: object, client_id: str | None = None, tenant: str | None = None
) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        client_id or sim.client_id,
        client_credential=credential,
        authority=f"{sim.authority_host}/{tenant or sim.tenant_id}",
        instance_discovery=False,
        http_client=_session(sim),
    )


def _graph_get(sim: SimHandle, token: str, path: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(verify=sim.ssl_context()) as client:
        return client.get(f"{sim.base_url}/{path}", headers=headers)


def _certificate_pems() -> tuple[str, str, str]:
    cert = self_signed()
    return cert.key_pem, cert.cert_pem, cert.thumbprint


def test_msal_gets_a_token_with_the_secret_and_graph_accepts_it(sim: SimHandle) -> None:
    result = _app(sim, sim.client_secret).acquire_token_for_client(scopes=SCOPE)
    assert result.get("token_type") == "Bearer", result
    assert result["expires_in"] > 3000
    r = _graph_get(sim, result["access_token"], "users/support@contoso.com/messages")
    assert r.status_code == 200
    assert r.json()["value"] == []


def _register_cert_app(sim: SimHandle, cert_pem: str) -> str:
    client_id = str(uuid.uuid4())
    with sim.control() as c:
        r = c.post(
            "/_sim/apps",
            json={"tenant_id": sim.tenant_id, "client_id": client_id, "certificate_pem": cert_pem},
        )
    assert r.status_code == 201
    return client_id


def test_msal_gets_a_token_with_a_certificate_ps256(sim: SimHandle) -> None:
    key_pem, cert_pem, _ = _certificate_pems()
    client_id = _register_cert_app(sim, cert_pem)
    credential = {"private_key": key_pem, "public_certificate": cert_pem}
    result = _app(sim, credential, client_id).acquire_token_for_client(scopes=SCOPE)
    assert "access_token" in result, result
    assert _graph_get(sim, result["access_token"], "users/support@contoso.com").status_code == 200


def test_msal_gets_a_token_with_a_certificate_thumbprint_rs256(sim: SimHandle) -> None:
    key_pem, cert_pem, sha1 = _certificate_pems()
    client_id = _register_cert_app(sim, cert_pem)
    credential = {"private_key": key_pem, "thumbprint": sha1}
    result = _app(sim, credential, client_id).acquire_token_for_client(scopes=SCOPE)
    assert "access_token" in result, result


def test_an_unregistered_certificate_is_refused(sim: SimHandle) -> None:
    _, registered_pem, _ = _certificate_pems()
    other_key, other_cert, _ = _certificate_pems()
    client_id = _register_cert_app(sim, registered_pem)
    credential = {"private_key": other_key, "public_certificate": other_cert}
    result = _app(sim, credential, client_id).acquire_token_for_client(scopes=SCOPE)
    assert result["error"] == "invalid_client"
    assert 700027 in result["error_codes"]


def test_wrong_secret_is_entras_invalid_client(sim: SimHandle) -> None:
    result = _app(sim, "not-the-secret").acquire_token_for_client(scopes=SCOPE)
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000215]
    assert result["error_description"].startswith("AADSTS7000215: Invalid client secret")
    assert {"trace_id", "correlation_id", "timestamp"} <= result.keys()
    assert "not-the-secret" not in str(result)


def test_unknown_client_is_aadsts700016(sim: SimHandle) -> None:
    result = _app(sim, "x", client_id=str(uuid.uuid4())).acquire_token_for_client(scopes=SCOPE)
    assert result["error"] == "unauthorized_client"
    assert result["error_codes"] == [700016]


def test_unknown_tenant_fails_discovery_with_aadsts90002(sim: SimHandle) -> None:
    tenant = str(uuid.uuid4())
    with pytest.raises(ValueError, match="Unable to get authority configuration"):
        _app(sim, sim.client_secret, tenant=tenant)
    with httpx.Client(verify=sim.ssl_context()) as client:
        r = client.get(f"{sim.authority_host}/{tenant}/v2.0/.well-known/openid-configuration")
    assert r.status_code == 400
    assert r.json()["error_codes"] == [90002]


def test_tokens_expire_after_token_ttl(sim: SimHandle) -> None:
    with sim.control() as c:
        c.post("/_sim/faults", json={"token_ttl_s": 0})
    result = _app(sim, sim.client_secret).acquire_token_for_client(scopes=SCOPE)
    assert result["expires_in"] == 0
    r = _graph_get(sim, result["access_token"], "users/support@contoso.com/messages")
    assert r.status_code == 401
    error = r.json()["error"]
    assert error["code"] == "InvalidAuthenticationToken"
    assert "expired" in error["message"]
    assert error["innerError"]["request-id"] == r.headers["request-id"]


def test_graph_without_a_token_is_401(sim: SimHandle) -> None:
    with httpx.Client(verify=sim.ssl_context()) as client:
        r = client.get(f"{sim.base_url}/users/support@contoso.com/messages")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "InvalidAuthenticationToken"
