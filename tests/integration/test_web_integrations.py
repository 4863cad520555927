"""The console's integrations against the Graph simulator, on SQLite and PostgreSQL: the form
creates one, Test connection passes every step, a broken secret fails the token step with its
fix, each rule's refusal is shown by its field, secrets never appear in a page, the audit log
or the logs; agents and forged forms are refused; a file source is read-only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from sqlalchemy import select

from libs.common.db.integrations import Integrations
from libs.common.db.schema import console_audit
from libs.common.secret_box import SecretBox, new_key
from libs.graphsim.testing import SimHandle
from services.web.mailboxes import Mailboxes
from tests.certs import self_signed
from tests.web_rig import (
    ADMIN_PASSWORD,
    AGENT_PASSWORD,
    Console,
    csrf_of,
    open_console,
    post_form,
    sign_in,
)

BOX = "support@contoso.com"
OUTSIDE = "helpdesk@contoso.com"
SECRET_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


@pytest.fixture
def console(database_url: str, sim: SimHandle) -> Iterator[Console]:
    store = Integrations.open(database_url)
    graph = sim.config().graph
    mailboxes = Mailboxes("database", graph, store=store, box=SecretBox(new_key()))
    try:
        for console in open_console(database_url):
            console.mailboxes = mailboxes
            console.add_user("alice", "admin", ADMIN_PASSWORD)
            console.add_user("bob", "agent", AGENT_PASSWORD)
            yield console
    finally:
        store.close()


def form_of(sim: SimHandle, **changes: Any) -> dict[str, Any]:
    values = {
        "name": "Support",
        "enabled": "on",
        "direction": "both",
        "protocol": "oauth2",
        "provider": "microsoft",
        "client_id": sim.client_id,
        "credential_kind": "secret",
        "client_secret": sim.client_secret,
        "tenant_id": sim.tenant_id,
        "secret_expires_on": "2027-06-01",
        "address": BOX,
        "folder": "inbox",
        "poll_interval_s": "30",
        "after_processing": "delete",
        "copy_to_folder": "",
        "quarantine_folder": "inbox",
        "auto_ack_per_hour": "3",
        "ignore_senders": "@spam.example",
        "send_as": "",
        "is_default": "on",
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def admin(console: Console) -> Any:
    client = console.client()
    sign_in(client, "alice", ADMIN_PASSWORD)
    return client


def create(client: Any, sim: SimHandle, **changes: Any) -> int:
    answer = post_form(
        client, "/admin/integrations", form_of(sim, **changes), "/admin/integrations/new"
    )
    assert answer.status_code == 303, answer.text
    found = re.match(r"/admin/integrations/(\d+)\?saved=1", answer.headers["location"])
    assert found is not None
    return int(found.group(1))


def steps_of(html: str) -> dict[str, str]:
    """Each step of the result on the page: its name and its mark."""
    found = re.findall(
        r'<li class="step-(ok|failed|unknown)">.*?<strong>(.*?)</strong>', html, re.S
    )
    return {name: mark for mark, name in found}


def test_create_then_test_connection_passes_every_step(console: Console, sim: SimHandle) -> None:
    client = admin(console)
    ident = create(client, sim)
    page = client.get(f"/admin/integrations/{ident}?saved=1").text
    assert "Saved." in page and "A secret is stored; leave empty to keep it." in page
    assert sim.client_secret not in page
    data = {"outside_mailbox": OUTSIDE}
    policy = {"access_right": "RestrictAccess", "mailboxes": [BOX]}
    with sim.control() as control:
        path = f"/_sim/apps/{sim.tenant_id}/{sim.client_id}/access-policy"
        control.put(path, json=policy).raise_for_status()
    answer = post_form(
        client, f"/admin/integrations/{ident}/test", data, f"/admin/integrations/{ident}"
    )
    assert answer.status_code == 200
    steps = steps_of(answer.text)
    for name in ("token", "admin consent", "Mail.ReadWrite", "mailbox", "folder"):
        assert steps[name] == "ok", (name, answer.text)
    assert steps["mailbox outside scope"] == "ok"
    listing = client.get("/admin/integrations").text
    assert "✓ passed" in listing and "Support" in listing


def test_a_broken_secret_fails_the_token_step_with_its_fix(
    console: Console, sim: SimHandle
) -> None:
    client = admin(console)
    ident = create(client, sim, client_secret="sim-this-is-not-the-secret")
    answer = post_form(
        client, f"/admin/integrations/{ident}/test", {}, f"/admin/integrations/{ident}"
    )
    steps = steps_of(answer.text)
    assert steps["token"] == "failed"
    assert "Fix: " in answer.text and "secret" in answer.text.lower()
    assert steps["mailbox"] == "unknown"  # skipped: needs token
    listing = client.get("/admin/integrations").text
    assert "✗ failed" in listing


def test_the_steps_stream_one_by_one_for_javascript(console: Console, sim: SimHandle) -> None:
    client = admin(console)
    ident = create(client, sim)
    page = f"/admin/integrations/{ident}"
    token = re.search(r'name="csrf_token" value="([^"]*)"', client.get(page).text)
    assert token is not None
    answer = client.post(
        f"{page}/test",
        data={"csrf_token": token.group(1)},
        headers={"Accept": "text/event-stream"},
    )
    assert answer.headers["content-type"].startswith("text/event-stream")
    events = re.findall(r"event: (\w+)", answer.text)
    assert events[0] == "step" and events[-1] == "done" and events.count("step") >= 6
    assert sim.client_secret not in answer.text


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"tenant_id": "not a tenant"}, "tenant_id", "not a GUID or a domain"),
        ({"client_id": "my-app"}, "client_id", "not a GUID"),
        ({"client_secret": SECRET_ID}, "client_secret", "looks like the secret"),
        ({"client_secret": ""}, "client_secret", "missing"),
        ({"address": "not-an-address"}, "address", ""),
        ({"poll_interval_s": "0"}, "poll_interval_s", "more than 0"),
        ({"poll_interval_s": "often"}, "poll_interval_s", "not a number"),
        ({"secret_expires_on": "soon"}, "secret_expires_on", "not a date"),
        ({"name": ""}, "name", "empty"),
    ],
)
def test_a_refusal_is_shown_by_its_field_and_keeps_what_was_typed(
    console: Console, sim: SimHandle, changes: dict[str, str], field: str, text: str
) -> None:
    client = admin(console)
    secret = "sim-typed-secret-value-never-shown"
    data = form_of(sim, **({"client_secret": secret} | changes))
    answer = post_form(client, "/admin/integrations", data, "/admin/integrations/new")
    assert answer.status_code == 400
    error = re.search(rf'<p id="{field}-error" class="error">([^<]*)</p>', answer.text)
    assert error is not None, answer.text
    assert text in error.group(1)
    assert f'{field}-error"' in answer.text.split(f'id="{field}"', 1)[1].split(">", 1)[0]
    assert secret not in answer.text and SECRET_ID not in answer.text
    assert 'value="Support"' in answer.text or field == "name"


def test_secrets_never_in_pages_the_audit_or_the_logs(console: Console, sim: SimHandle) -> None:
    client = admin(console)
    with structlog.testing.capture_logs() as logs:
        ident = create(client, sim)
        post_form(
            client,
            f"/admin/integrations/{ident}",
            form_of(sim, client_secret="sim-new-secret-value", name="Desk"),
            f"/admin/integrations/{ident}",
        )
        post_form(client, f"/admin/integrations/{ident}/test", {}, f"/admin/integrations/{ident}")
    for secret in (sim.client_secret, "sim-new-secret-value"):
        assert not any(secret in page for page in console.pages)
        assert secret not in repr(logs)
    with console.store.engine.connect() as conn:
        audit = [repr(row) for row in conn.execute(select(console_audit)).all()]
    assert any("integration created" in row for row in audit)
    changed = [row for row in audit if "integration updated" in row]
    assert changed and "'secret'" in changed[0] and "'name'" in changed[0]
    assert any("connection tested" in row for row in audit)
    assert not any(s in row for row in audit for s in (sim.client_secret, "sim-new-secret-value"))


def test_an_empty_secret_keeps_the_stored_one(console: Console, sim: SimHandle) -> None:
    client = admin(console)
    ident = create(client, sim)
    page = f"/admin/integrations/{ident}"
    answer = post_form(client, page, form_of(sim, client_secret="", folder="Inbox"), page)
    assert answer.status_code == 303
    tested = post_form(client, f"{page}/test", {}, page)
    assert steps_of(tested.text)["token"] == "ok"


def test_delete_and_default(console: Console, sim: SimHandle) -> None:
    client = admin(console)
    first = create(client, sim)
    second = create(client, sim, name="Desk", address=OUTSIDE, is_default=None)
    made = post_form(client, f"/admin/integrations/{second}/default", {}, "/admin/integrations")
    assert "Desk is now the default." in made.text
    store = console.mailboxes.store if console.mailboxes else None
    assert store is not None
    assert [i.fields.is_default for i in store.list()] == [False, True]
    gone = post_form(client, f"/admin/integrations/{first}/delete", {}, "/admin/integrations")
    assert "Deleted Support." in gone.text
    assert [i.id for i in store.list()] == [second]


def test_the_secret_expiry_reminder(console: Console, sim: SimHandle) -> None:
    client = admin(console)
    create(client, sim, secret_expires_on="2026-12-20")
    assert "Warning: expires in 17 days" in client.get("/admin/integrations").text
    console.clock.advance(days=20)
    sign_in(client, "alice", ADMIN_PASSWORD)
    assert "Error: expired on 2026-12-20" in client.get("/admin/integrations").text


def test_an_agent_is_refused(console: Console, sim: SimHandle) -> None:
    client = console.client()
    sign_in(client, "bob", AGENT_PASSWORD)
    for path in ("/admin/integrations", "/admin/integrations/new"):
        assert client.get(path).status_code == 403
    answer = post_form(client, "/admin/integrations", form_of(sim), "/")
    assert answer.status_code == 403
    assert console.mailboxes and console.mailboxes.store
    assert console.mailboxes.store.list() == ()


def test_a_forged_form_is_refused(console: Console, sim: SimHandle) -> None:
    client = admin(console)
    answer = client.post("/admin/integrations", data={**form_of(sim), "csrf_token": "forged"})
    assert answer.status_code == 403
    assert console.mailboxes and console.mailboxes.store
    assert console.mailboxes.store.list() == ()


def test_a_file_source_is_read_only(database_url: str, sim: SimHandle) -> None:
    for console in open_console(database_url):
        console.mailboxes = Mailboxes("file", file_mailboxes=sim.config().mailboxes)
        console.add_user("alice", "admin", ADMIN_PASSWORD)
        client = admin(console)
        page = client.get("/admin/integrations").text
        assert BOX in page and "mailpipe config import" in page
        assert "+ Create New" not in page and sim.client_secret not in page
        assert client.get("/admin/integrations/new").status_code == 409
        refused = post_form(client, "/admin/integrations", form_of(sim), "/admin/integrations")
        assert refused.status_code == 409


def sent_of(sim: SimHandle) -> list[dict[str, Any]]:
    with sim.control() as control:
        answer = control.get(f"/_sim/mailboxes/{BOX}/sent")
    answer.raise_for_status()
    found: list[dict[str, Any]] = answer.json()
    return found


def test_send_test_and_send_as_per_agent(console: Console, sim: SimHandle) -> None:
    agent = "agent@contoso.com"
    with sim.control() as control:
        control.post("/_sim/users", json={"address": agent}).raise_for_status()
        path = f"/_sim/mailboxes/{BOX}/send-as"
        control.put(path, json={"allowed": [agent]}).raise_for_status()
    client = admin(console)
    ident = create(client, sim, allow_personal_profiles="on", send_as=agent)
    page = f"/admin/integrations/{ident}"
    answer = post_form(client, f"{page}/test", {}, page)
    steps = steps_of(answer.text)
    assert steps[f"send-as {agent}"] == "unknown"  # a draft cannot prove the grant
    assert "send test" not in steps and sent_of(sim) == []
    asked = {"send_test": "on", "send_test_to": "me@contoso.com"}
    answer = post_form(client, f"{page}/test", asked, page)
    assert steps_of(answer.text)["send test"] == "ok"
    (sent,) = sent_of(sim)
    assert sent["to"] == ["me@contoso.com"]


def test_a_mailbox_outside_the_scope_that_is_reachable_fails(
    console: Console, sim: SimHandle
) -> None:
    client = admin(console)
    ident = create(client, sim)
    page = f"/admin/integrations/{ident}"
    answer = post_form(client, f"{page}/test", {"outside_mailbox": OUTSIDE}, page)
    assert steps_of(answer.text)["mailbox outside scope"] == "failed"
    assert "New-ApplicationAccessPolicy" in answer.text


def test_the_test_form_is_checked_by_its_field(console: Console, sim: SimHandle) -> None:
    client = admin(console)
    ident = create(client, sim)
    page = f"/admin/integrations/{ident}"
    answer = post_form(client, f"{page}/test", {"send_test": "on"}, page)
    assert answer.status_code == 400
    assert 'id="send_test_to-error"' in answer.text
    assert "give the address the test message goes to" in answer.text
    assert sent_of(sim) == []


def test_a_secret_sealed_with_another_key_fails_the_test_with_its_fix(
    console: Console, sim: SimHandle
) -> None:
    client = admin(console)
    ident = create(client, sim)
    assert console.mailboxes is not None
    console.mailboxes.box = SecretBox(new_key())  # the key was replaced without the old one
    page = f"/admin/integrations/{ident}"
    answer = post_form(client, f"{page}/test", {}, page)
    assert answer.status_code == 200
    assert steps_of(answer.text) == {"settings": "failed"}
    assert "MAILPIPE_SECRETS_KEY" in answer.text


def test_a_certificate_uploaded_through_the_form(console: Console, sim: SimHandle) -> None:
    certificate = self_signed("console-test")
    app = {
        "tenant_id": sim.tenant_id,
        "client_id": sim.client_id,
        "certificate_pem": certificate.cert_pem,
    }
    with sim.control() as control:
        control.post("/_sim/apps", json=app).raise_for_status()
    client = admin(console)
    token = csrf_of(client.get("/admin/integrations/new").text)
    data = form_of(sim, credential_kind="certificate", client_secret=None, csrf_token=token)
    files = {
        "certificate_pem": ("app.crt", certificate.cert_pem.encode(), "application/x-pem-file"),
        "certificate_key": ("app.key", certificate.key_pem.encode(), "application/x-pem-file"),
    }
    answer = client.post("/admin/integrations", data=data, files=files)
    assert answer.status_code == 303, answer.text
    page = answer.headers["location"].split("?")[0]
    form = client.get(page).text
    assert "A certificate is stored; leave empty to keep it." in form
    assert "PRIVATE KEY" not in form
    tested = post_form(client, f"{page}/test", {}, page)
    assert steps_of(tested.text)["token"] == "ok"
    assert not any("PRIVATE KEY" in text for text in console.pages)
