"""The console's integrations pages with a Google mailbox, against the Gmail simulator: the
Service provider choice offers Google with its own group (the key upload), only the chosen
provider's fields are checked and kept, the key is stored sealed and never shown back, and
Test connection runs Google's steps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select

from libs.common.db.integrations import Integrations
from libs.common.db.schema import console_audit, metadata
from libs.common.secret_box import SecretBox, new_key
from libs.common.settings import GraphConfig
from libs.common.setup_check.runner import graph_probe
from libs.gmailsim.testing import GmailSimHandle
from services.web.mailboxes import Mailboxes
from tests.integration.web_integrations_helpers import admin, steps_of
from tests.web_rig import ADMIN_PASSWORD, Console, csrf_of, open_console, post_form

BOX = "support@example.com"
SCOPE = "https://www.googleapis.com/auth/"


@pytest.fixture
def console(database_url: str, gsim: GmailSimHandle) -> Iterator[Console]:
    store = Integrations.open(database_url)
    probes = partial(graph_probe, google=gsim.config().google)
    mailboxes = Mailboxes(
        "database", GraphConfig(), store=store, box=SecretBox(new_key()), probe_factory=probes
    )
    try:
        for console in open_console(database_url):
            console.mailboxes = mailboxes
            console.add_user("alice", "admin", ADMIN_PASSWORD)
            yield console
    finally:
        store.close()


def stored(console: Console) -> Integrations:
    assert console.mailboxes is not None and console.mailboxes.store is not None
    return console.mailboxes.store


def google_form(**changes: Any) -> dict[str, Any]:
    values = {
        "name": "Gmail desk",
        "enabled": "on",
        "direction": "both",
        "protocol": "oauth2",
        "provider": "google",
        # Microsoft's group as a browser without script posts it: ignored for Google.
        "client_id": "not-a-guid",
        "credential_kind": "secret",
        "tenant_id": "",
        "address": BOX,
        "folder": "inbox",
        "poll_interval_s": "30",
        "after_processing": "delete",
        "quarantine_folder": "mailpipe-quarantine",
        "auto_ack_per_hour": "3",
        "send_as": "agent@example.com",
        "allow_personal_profiles": "on",
    }
    return values | changes


def post_google(
    client: Any, key: dict[str, Any] | bytes | None, path: str, page: str, **changes: Any
) -> Any:
    token = csrf_of(client.get(page).text)
    files = {}
    if key is not None:
        body = key if isinstance(key, bytes) else json.dumps(key).encode()
        files["service_account_key"] = ("sa.json", body, "application/json")
    return client.post(path, data=google_form(csrf_token=token, **changes), files=files)


def test_the_form_offers_google_with_its_own_group(console: Console) -> None:
    page = admin(console).get("/admin/integrations/new").text
    assert '<option value="google"' in page
    assert "Google Workspace (used when the service provider is Google)" in page
    assert "Microsoft 365 (used when the service provider is Microsoft)" in page
    assert 'id="service_account_key" name="service_account_key" type="file"' in page
    assert 'for="service_account_key"' in page and "/static/integration-provider.js" in page


def test_a_google_integration_is_saved_sealed_and_tested(
    console: Console, gsim: GmailSimHandle
) -> None:
    client = admin(console)
    new = "/admin/integrations/new"
    answer = post_google(client, gsim.key_info, "/admin/integrations", new)
    assert answer.status_code == 303, answer.text
    page = answer.headers["location"].split("?")[0]
    [item] = stored(console).list()
    assert item.fields.provider == "google" and item.fields.client_id == ""
    assert item.fields.credential_kind == "service_account"
    form = client.get(page).text
    assert "A key is stored; leave empty to keep it." in form
    tested = post_form(client, f"{page}/test", {}, page)
    steps = steps_of(tested.text)
    assert steps["service account key"] == "ok" and steps["delegation gmail.send"] == "ok"
    assert steps["mailbox"] == "ok" and steps["send-as agent@example.com"] == "ok"
    private = gsim.key_info["private_key"].splitlines()[1]
    with stored(console).engine.connect() as conn:
        sealed = conn.execute(select(metadata.tables["integrations"].c.sealed_secret)).scalar()
    with console.store.engine.connect() as conn:
        audit = [repr(row) for row in conn.execute(select(console_audit)).all()]
    assert sealed is not None and private not in sealed
    assert not any(private in text for text in console.pages + audit)
    # Saved again without a file: the stored key is kept and still works.
    again = post_google(client, None, page, page)
    assert again.status_code == 303, again.text
    assert steps_of(post_form(client, f"{page}/test", {}, page).text)["mailbox"] == "ok"


def test_test_connection_names_the_scope_not_delegated(
    console: Console, gsim: GmailSimHandle
) -> None:
    client_id = gsim.key_info["client_id"]
    with gsim.control() as control:
        delegated = {"scopes": [SCOPE + "gmail.modify"]}
        control.put(f"/_sim/delegation/{client_id}", json=delegated).raise_for_status()
    client = admin(console)
    answer = post_google(client, gsim.key_info, "/admin/integrations", "/admin/integrations/new")
    page = answer.headers["location"].split("?")[0]
    tested = post_form(client, f"{page}/test", {}, page).text
    assert steps_of(tested)["delegation gmail.send"] == "failed"
    assert f"add client ID {client_id} with scopes" in tested


@pytest.mark.parametrize(
    ("key", "text"),
    [
        (None, "missing: upload the service account key"),
        (b"not json at all", "not a Google service account key"),
    ],
)
def test_a_missing_or_wrong_key_is_refused_by_its_field(
    console: Console, key: bytes | None, text: str
) -> None:
    client = admin(console)
    new = "/admin/integrations/new"
    answer = post_google(client, key, "/admin/integrations", new)
    assert answer.status_code == 400, answer.text
    assert 'id="service_account_key-error"' in answer.text and text in answer.text
    assert "client_id-error" not in answer.text  # Microsoft's group is not checked
    assert stored(console).list() == ()


def test_alias_mode_is_kept_and_tests_the_alias(console: Console, gsim: GmailSimHandle) -> None:
    with gsim.control() as control:
        pending = {"pending": ["agent@example.com"]}
        control.put(f"/_sim/mailboxes/{BOX}/send-as", json=pending).raise_for_status()
    client = admin(console)
    answer = post_google(
        client,
        gsim.key_info,
        "/admin/integrations",
        "/admin/integrations/new",
        google_send_as="alias",
    )
    assert answer.status_code == 303, answer.text
    page = answer.headers["location"].split("?")[0]
    [item] = stored(console).list()
    assert item.fields.google_send_as == "alias"
    assert '<option value="alias" selected>' in client.get(page).text
    tested = post_form(client, f"{page}/test", {}, page).text
    steps = steps_of(tested)
    assert steps["delegation gmail.settings.basic"] == "ok"
    assert steps["send-as agent@example.com"] == "failed" and "verification" in tested
