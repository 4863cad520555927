"""Requester lookups on Google Workspace against the Gmail simulator: the Directory API's
``users.get`` (``viewType=domain_public``) as the helpdesk mailbox, mapped to the port's
``DirectoryUser``; unknown users are "not found"; a scope not delegated is a permanent error
with the Admin console fix, which the ticketer's lookups live with."""

from __future__ import annotations

from typing import Any

import pytest

from libs.common.mail import DirectoryUser, MailAuthError, MailNotFound, MailPermanentError
from libs.gmailsim.accounts import PROJECT_NUMBER
from libs.gmailsim.testing import GmailSimHandle
from services.ticketer.app import lookup_pool, user_fetcher
from services.ticketer.requesters import RequesterDirectory
from tests.gmailsim_helpers import MODIFY, SCOPE, SEND, token
from tests.records_fake import FakeStore

from .gmail_adapter_helpers import BOX, control, gmail_box, stats

pytestmark = pytest.mark.timeout(120)

DIRECTORY = SCOPE + "admin.directory.user.readonly"
BOB = {
    "address": "bob@example.com",
    "display_name": "Bob Jones",
    "department": "Finance",
    "job_title": "Accountant",
    "phone": "+1 555 0100",
}
USERS = "/admin/directory/v1/users/"


def undelegate_directory(sim: GmailSimHandle) -> str:
    client_id = str(sim.key_info["client_id"])
    control(sim, "PUT", f"/_sim/delegation/{client_id}", json={"scopes": [MODIFY, SEND]})
    return client_id


def test_a_user_of_the_workspace_is_mapped(gsim: GmailSimHandle) -> None:
    created = control(gsim, "POST", "/_sim/users", json=BOB)
    with gmail_box(gsim) as box:
        user = box.get_user("Bob@Example.com")
    assert user == DirectoryUser(
        id=created["id"],
        display_name="Bob Jones",
        mail="bob@example.com",
        user_principal_name="bob@example.com",
        job_title="Accountant",
        department="Finance",
    )
    counted = stats(gsim)
    assert counted["requests"]["GET directory/users/{userKey}"] == {"200": 1}
    # Not a Gmail API request: the benchmark's Gmail figures leave it out.
    assert (counted["directory_requests"], counted["http_requests"]) == (1, 0)


def test_unknown_and_outside_users_are_not_found(gsim: GmailSimHandle) -> None:
    with gmail_box(gsim) as box:
        for address in ("nobody@example.com", "ann@customer.example"):
            with pytest.raises(MailNotFound) as missing:
                box.get_user(address)
            assert missing.value.code == "user_not_found" and missing.value.status == 404
        # A user the admin gave no profile: only what the directory holds, None elsewhere.
        plain = box.get_user(BOX)
    assert (plain.mail, plain.job_title, plain.department) == (BOX, None, None)
    assert plain.display_name == "Support"


def test_a_scope_not_delegated_is_permanent_with_the_admin_console_fix(
    gsim: GmailSimHandle,
) -> None:
    client_id = undelegate_directory(gsim)
    with gmail_box(gsim) as box:
        with pytest.raises(MailAuthError) as refused:
            box.get_user("bob@example.com")
        assert box.get_folder("inbox").total_count == 0  # the mail's own token is not touched
    err = refused.value
    assert not err.retryable and err.code == "directory_not_delegated"
    assert err.hint is not None
    assert "Security → Access and data control → API controls → Domain-wide" in err.hint
    assert f"add the scope {DIRECTORY} to client id {client_id}" in err.hint


def test_the_simulator_serves_the_public_view_to_a_token_with_the_scope(
    gsim: GmailSimHandle,
) -> None:
    control(gsim, "POST", "/_sim/users", json=BOB)
    with gsim.api(token(gsim, BOX, [DIRECTORY])) as api:
        found = api.get(USERS + "bob@example.com", params={"viewType": "domain_public"})
        admin_view = api.get(USERS + "bob@example.com")
    with gsim.api(token(gsim, BOX, [MODIFY])) as api:
        no_scope = api.get(USERS + "bob@example.com", params={"viewType": "domain_public"})
    body: dict[str, Any] = found.json()
    assert body["name"]["fullName"] == "Bob Jones"
    assert body["organizations"] == [
        {"title": "Accountant", "department": "Finance", "primary": True, "customType": ""}
    ]
    assert body["phones"] == [{"value": "+1 555 0100", "type": "work"}]
    assert (admin_view.status_code, admin_view.json()["error"]["errors"][0]["reason"]) == (
        403,
        "forbidden",
    )
    assert no_scope.json()["error"]["errors"][0]["reason"] == "insufficientPermissions"


def test_the_ticketer_enriches_requesters_and_pauses_without_the_scope(
    gsim: GmailSimHandle,
) -> None:
    control(gsim, "POST", "/_sim/users", json=BOB)
    config = gsim.config()
    pool = lookup_pool(config)
    try:
        lookup = RequesterDirectory(FakeStore(), user_fetcher(config, pool))
        bob = lookup(BOX, "bob@example.com")
        outside = lookup(BOX, "ann@customer.example")
        undelegate_directory(gsim)
        pool.close()
        pool = lookup_pool(config)  # a new process: no token in hand
        lookup = RequesterDirectory(FakeStore(), user_fetcher(config, pool))
        refused = lookup(BOX, "agent@example.com")
        asked = stats(gsim)["token_requests"]
        paused = lookup(BOX, "helpdesk@example.com")
    finally:
        pool.close()
    assert bob is not None and bob.in_tenant
    assert (bob.name, bob.job_title, bob.department) == ("Bob Jones", "Accountant", "Finance")
    assert outside is not None and not outside.in_tenant
    assert refused is None and paused is None  # no profile, and no error reaches the record
    assert stats(gsim)["token_requests"] == asked  # the refusal is not asked again per mail


def test_the_admin_sdk_api_not_enabled_is_permanent_with_the_cloud_console_fix(
    gsim: GmailSimHandle,
) -> None:
    control(gsim, "POST", "/_sim/faults", json={"directory_api_disabled": True})
    with gmail_box(gsim) as box:
        with pytest.raises(MailPermanentError) as refused:
            box.get_user("bob@example.com")
        assert box.get_folder("inbox").total_count == 0  # the Gmail API is enabled
    err = refused.value
    assert not err.retryable and (err.status, err.code) == (403, "accessNotConfigured")
    assert "Admin SDK API has not been used in project" in err.message
    assert err.hint and err.hint.startswith(
        "Google Cloud console → APIs & Services → Library → Admin SDK API → Enable, in project "
        f"{PROJECT_NUMBER}"
    )
