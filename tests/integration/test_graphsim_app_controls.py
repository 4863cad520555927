"""The simulator's per-app controls: an expired client secret (AADSTS7000222) and an
Exchange application access policy (403 ErrorAccessDenied for the mailboxes it keeps out)."""

from __future__ import annotations

import httpx

from libs.graphsim.testing import SimHandle
from tests.graphsim_helpers import graph

SCOPE = "https://graph.microsoft.com/.default"
BLOCKED = "users/support@contoso.com/mailFolders/inbox/messages"
ALLOWED = "users/helpdesk@contoso.com/mailFolders/inbox/messages"


def _token_request(sim: SimHandle, secret: str) -> httpx.Response:
    with httpx.Client(verify=sim.ssl_context()) as client:
        return client.post(
            f"{sim.authority_host}/{sim.tenant_id}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": sim.client_id,
                "client_secret": secret,
                "scope": SCOPE,
            },
        )


def _app_path(sim: SimHandle, action: str) -> str:
    return f"/_sim/apps/{sim.tenant_id}/{sim.client_id}/{action}"


def test_an_expired_secret_is_aadsts7000222_and_a_wrong_one_still_7000215(sim: SimHandle) -> None:
    assert _token_request(sim, sim.client_secret).status_code == 200
    with sim.control() as c:
        assert c.post(_app_path(sim, "expire-secret")).status_code == 204
    expired = _token_request(sim, sim.client_secret)
    wrong = _token_request(sim, "not-the-secret")
    assert expired.status_code == 401
    assert expired.json()["error"] == "invalid_client"
    assert expired.json()["error_codes"] == [7000222]
    assert "are expired" in expired.json()["error_description"]
    assert sim.client_secret not in expired.text
    assert wrong.json()["error_codes"] == [7000215]


def test_reset_gives_the_default_app_a_valid_secret_again(sim: SimHandle) -> None:
    with sim.control() as c:
        c.post(_app_path(sim, "expire-secret"))
        c.post("/_sim/reset")
    assert _token_request(sim, sim.client_secret).status_code == 200


def test_restrict_access_lets_the_app_reach_only_the_listed_mailboxes(sim: SimHandle) -> None:
    policy = {"access_right": "RestrictAccess", "mailboxes": ["HelpDesk@contoso.com"]}
    with sim.control() as c:
        stored = c.put(_app_path(sim, "access-policy"), json=policy)
    assert stored.json() == {
        "access_right": "RestrictAccess",
        "mailboxes": ["helpdesk@contoso.com"],
    }
    with graph(sim) as g:
        blocked = g.get(BLOCKED)
        allowed = g.get(ALLOWED)
        batch = g.post(
            "$batch", json={"requests": [{"id": "1", "method": "GET", "url": "/" + BLOCKED}]}
        )
        directory = g.get("users/support@contoso.com", params={"$select": "id"})
    assert blocked.status_code == 403
    assert blocked.json()["error"]["code"] == "ErrorAccessDenied"
    assert "AccessPolicy" in blocked.json()["error"]["message"]
    assert allowed.status_code == 200
    assert batch.json()["responses"][0]["status"] == 403
    assert directory.status_code == 200  # directory reads are not behind the policy


def test_deny_access_blocks_the_listed_mailboxes_and_delete_lifts_it(sim: SimHandle) -> None:
    policy = {"access_right": "DenyAccess", "mailboxes": ["support@contoso.com"]}
    with sim.control() as c:
        c.put(_app_path(sim, "access-policy"), json=policy)
        with graph(sim) as g:
            assert g.get(BLOCKED).status_code == 403
            assert g.get(ALLOWED).status_code == 200
            assert c.delete(_app_path(sim, "access-policy")).status_code == 204
            assert g.get(BLOCKED).status_code == 200


def test_app_controls_refuse_unknown_apps_and_rights(sim: SimHandle) -> None:
    with sim.control() as c:
        unknown = c.post(f"/_sim/apps/{sim.tenant_id}/no-such-client/expire-secret")
        bad = c.put(_app_path(sim, "access-policy"), json={"access_right": "Sometimes"})
    assert unknown.status_code == 404
    assert bad.status_code == 400
