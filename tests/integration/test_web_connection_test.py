"""Test connection of an integration against the Graph simulator, on SQLite and PostgreSQL:
every step passes, a broken secret fails the token step with its fix, the steps stream one by
one for the script, the send test and Send As per agent, a mailbox outside the app's scope,
and a secret that cannot be opened."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from libs.common.secret_box import SecretBox, new_key
from libs.graphsim.testing import SimHandle
from tests.integration.web_integrations_helpers import (
    BOX,
    OUTSIDE,
    admin,
    create,
    integration_console,
    sent_of,
    steps_of,
)
from tests.web_rig import Console, post_form


@pytest.fixture
def console(database_url: str, sim: SimHandle) -> Iterator[Console]:
    yield from integration_console(database_url, sim)


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


def test_the_script_is_a_static_file_and_the_page_has_no_inline_script(
    console: Console, sim: SimHandle
) -> None:
    client = admin(console)
    ident = create(client, sim)
    page = client.get(f"/admin/integrations/{ident}")
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
    assert scripts == [
        (' src="/static/integration-provider.js" defer', ""),
        (' src="/static/connection-test.js" defer', ""),
    ]
    assert "provider-fields" in client.get("/static/integration-provider.js").text
    assert "'self'" in page.headers["content-security-policy"]
    script = client.get("/static/connection-test.js")
    assert script.status_code == 200 and "text/event-stream" in script.text
