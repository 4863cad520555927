"""The Gmail simulator's token endpoint with google-auth's real service-account credentials:
domain-wide delegation, wrong keys, undelegated clients and scopes, as Google answers them."""

from __future__ import annotations

import pytest
from google.auth.exceptions import RefreshError
from google.oauth2 import service_account

from libs.gmailsim.testing import GmailSimHandle
from tests.gmailsim_helpers import FULL, MODIFY, SEND, google_request, mail, seed, token

pytestmark = pytest.mark.timeout(120)


def test_google_auth_token_lists_the_mailbox(gsim: GmailSimHandle) -> None:
    seeded = seed(gsim, "support@example.com", mail("first"))
    with gsim.api(token(gsim, "support@example.com")) as api:
        listed = api.get("/gmail/v1/users/me/messages").raise_for_status().json()
        profile = api.get("/gmail/v1/users/support@example.com/profile").json()
    assert listed["messages"] == [{"id": seeded["id"], "threadId": seeded["threadId"]}]
    assert profile["emailAddress"] == "support@example.com"
    assert profile["messagesTotal"] == 1
    with gsim.control() as control:
        stats = control.get("/_sim/stats").json()
    assert stats["tokens_issued"] == 1
    assert stats["requests"]["GET users/{u}/messages"] == {"200": 1}
    assert stats["units"]["support@example.com"] == 5 + 1


def test_a_key_the_account_does_not_have_is_an_invalid_signature(gsim: GmailSimHandle) -> None:
    with gsim.control() as control:
        other = control.post("/_sim/service-accounts", json={"name": "other"}).json()
    forged = {**gsim.key_info, "private_key": other["private_key"]}
    with pytest.raises(RefreshError) as caught:
        token(gsim, "support@example.com", info=forged)
    assert caught.value.args[1]["error"] == "invalid_grant"
    assert caught.value.args[1]["error_description"] == "Invalid JWT Signature."


def test_a_deleted_key_no_longer_gets_tokens(gsim: GmailSimHandle) -> None:
    client_id = gsim.key_info["client_id"]
    with gsim.control() as control:
        second = control.post(f"/_sim/service-accounts/{client_id}/keys").json()
        assert token(gsim, "support@example.com", info=second)
        key_id = second["private_key_id"]
        control.delete(f"/_sim/service-accounts/{client_id}/keys/{key_id}").raise_for_status()
    with pytest.raises(RefreshError, match="invalid_grant"):
        token(gsim, "support@example.com", info=second)


def test_an_undelegated_client_is_unauthorized(gsim: GmailSimHandle) -> None:
    with gsim.control() as control:
        key = control.post("/_sim/service-accounts", json={"name": "nodwd"}).json()
    with pytest.raises(RefreshError) as caught:
        token(gsim, "support@example.com", info=key)
    assert caught.value.args[1]["error"] == "unauthorized_client"
    assert "not authorized for any of the scopes" in caught.value.args[1]["error_description"]


def test_a_scope_outside_the_delegation_is_unauthorized(gsim: GmailSimHandle) -> None:
    # the default account is delegated gmail.modify and gmail.send, not full mail access
    with pytest.raises(RefreshError, match="unauthorized_client"):
        token(gsim, "support@example.com", scopes=[MODIFY, FULL])
    client_id = gsim.key_info["client_id"]
    with gsim.control() as control:
        control.put(f"/_sim/delegation/{client_id}", json={"scopes": [MODIFY]}).raise_for_status()
    with pytest.raises(RefreshError, match="unauthorized_client"):
        token(gsim, "support@example.com", scopes=[SEND])
    assert token(gsim, "support@example.com", scopes=[MODIFY])


def test_without_a_subject_the_account_has_no_mailbox(gsim: GmailSimHandle) -> None:
    creds = service_account.Credentials.from_service_account_info(gsim.key_info, scopes=[MODIFY])
    creds.refresh(google_request(gsim))
    assert isinstance(creds.token, str)
    with gsim.api(creds.token) as api:
        resp = api.get("/gmail/v1/users/me/messages")
    assert resp.status_code == 400
    assert resp.json()["error"]["errors"][0]["reason"] == "failedPrecondition"


def test_a_user_outside_the_domain_is_an_invalid_grant(gsim: GmailSimHandle) -> None:
    with pytest.raises(RefreshError) as caught:
        token(gsim, "nobody@example.com")
    assert caught.value.args[1] == {
        "error": "invalid_grant",
        "error_description": "Invalid email or User ID",
    }


def test_api_calls_check_scope_user_and_token(gsim: GmailSimHandle) -> None:
    seeded = seed(gsim, "support@example.com", mail("scoped"))
    send_only = token(gsim, "support@example.com", scopes=[SEND])
    with gsim.api(send_only) as api:
        denied = api.get("/gmail/v1/users/me/messages")
    assert denied.status_code == 403
    error = denied.json()["error"]
    assert error["code"] == 403
    assert error["status"] == "PERMISSION_DENIED"
    assert error["errors"][0]["reason"] == "insufficientPermissions"
    with gsim.api(token(gsim, "support@example.com")) as api:
        other = api.get("/gmail/v1/users/helpdesk@example.com/messages")
        # permanent deletion needs full mail access; gmail.modify is not enough
        delete = api.delete(f"/gmail/v1/users/me/messages/{seeded['id']}")
    assert other.status_code == 403
    assert delete.status_code == 403
    assert delete.json()["error"]["errors"][0]["reason"] == "insufficientPermissions"
    with gsim.api("ya29.not-a-token") as api:
        unauthenticated = api.get("/gmail/v1/users/me/profile")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["status"] == "UNAUTHENTICATED"
    assert counts(gsim)["labels"]["inbox"] == 1


def counts(sim: GmailSimHandle) -> dict:
    with sim.control() as control:
        return dict(control.get("/_sim/mailboxes/support@example.com").json())
