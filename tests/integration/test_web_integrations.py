"""The console's integrations pages on SQLite and PostgreSQL: the form creates, edits and
deletes; each rule's refusal is shown by its field, every wrong field at once and in a summary;
secrets never appear in a page, the audit log or the logs; agents and forged forms are refused;
a file source is read-only; the expiry reminder; a certificate uploaded through the form."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import structlog
from sqlalchemy import select

from libs.common.db.schema import console_audit
from libs.graphsim.testing import SimHandle
from services.web.mailboxes import Mailboxes
from tests.certs import self_signed
from tests.integration.web_integrations_helpers import (
    BOX,
    OUTSIDE,
    admin,
    create,
    form_of,
    integration_console,
    steps_of,
)
from tests.web_rig import (
    ADMIN_PASSWORD,
    AGENT_PASSWORD,
    Console,
    csrf_of,
    open_console,
    post_form,
    sign_in,
)

SECRET_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


@pytest.fixture
def console(database_url: str, sim: SimHandle) -> Iterator[Console]:
    yield from integration_console(database_url, sim)


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


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_wrong_field_is_shown_at_once_by_its_field_and_in_the_summary(
    console: Console, sim: SimHandle
) -> None:
    client = admin(console)
    data = form_of(sim, client_id="", tenant_id="", client_secret="", folder="Helpdesk")
    answer = post_form(client, "/admin/integrations", data, "/admin/integrations/new")
    assert answer.status_code == 400
    expected = {
        "client_id": "not a GUID",
        "client_secret": "missing: a new integration needs its credential",
        "tenant_id": "not a GUID or a domain",
    }
    for field, text in expected.items():
        error = re.search(rf'<p id="{field}-error" class="error">([^<]*)</p>', answer.text)
        assert error is not None and text in error.group(1), field
        tag = answer.text.split(f'id="{field}"', 1)[1].split(">", 1)[0]
        assert f'{field}-error"' in tag and 'aria-invalid="true"' in tag
    summary = answer.text.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary
    assert "3 fields need correcting" in summary
    links = re.findall(r'<li><a href="#([a-z_]+)">([^<]*)</a></li>', summary)
    assert [name for name, _ in links] == list(expected)  # in the order of the form
    for (name, text), label in zip(links, ("Client ID", "Client secret", "Tenant ID"), strict=True):
        assert text.startswith(f"{label}: ") and expected[name] in text
    assert 'value="Support"' in answer.text and 'value="Helpdesk"' in answer.text
    assert 'aria-invalid="true"' not in answer.text.split('id="address"', 1)[1].split(">", 1)[0]


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
