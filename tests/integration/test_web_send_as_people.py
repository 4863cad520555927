"""The integration form's Send As list drawn from the console users' personal emails: the
admin ticks who may reply as themself, a user without a personal email is listed but cannot be
ticked, other addresses stay a free list, and an imported TOML list shows its users ticked."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from libs.common.integration_toml import fields_of
from libs.graphsim.testing import SimHandle
from tests.integration.web_integrations_helpers import admin, create, integration_console
from tests.web_rig import Console

CAROL = "carol@contoso.com"
OUTSIDER = "temp.agent@contoso.com"


@pytest.fixture
def console(database_url: str, sim: SimHandle) -> Iterator[Console]:
    for made in integration_console(database_url, sim):
        carol = made.add_user("carol", "agent", "carol password 1234")
        made.store.change_user(carol.id, personal_email=CAROL)
        made.add_user("dave", "agent", "dave password 12345")  # no personal email
        yield made


def _send_as(console: Console, ident: int) -> tuple[str, ...]:
    assert console.mailboxes is not None and console.mailboxes.store is not None
    found = console.mailboxes.store.get(ident)
    assert found is not None
    return found.fields.send_as


def _boxes(page: str) -> dict[str, str]:
    """Each user's box on the form: ``checked``, ``open`` or ``disabled``."""
    found = {}
    for tag in re.findall(r'<input id="send-as-user-\d+"[^>]*>', page):
        value = re.search(r'value="([^"]*)"', tag)
        state = "disabled" if "disabled" in tag else "checked" if "checked" in tag else "open"
        found[value.group(1) if value else "(none)"] = state
    return found


def test_the_admin_ticks_who_may_send_as_themself(console: Console, sim: SimHandle) -> None:
    client = admin(console)
    new = client.get("/admin/integrations/new").text
    assert _boxes(new) == {CAROL: "open", "(none)": "disabled"}
    assert "Dave" in new and "no personal email yet" in new
    ident = create(
        client,
        sim,
        allow_personal_profiles="on",
        send_as_users=[CAROL],
        send_as=OUTSIDER,
    )
    assert _send_as(console, ident) == (CAROL, OUTSIDER)
    page = client.get(f"/admin/integrations/{ident}").text
    assert _boxes(page) == {CAROL: "checked", "(none)": "disabled"}
    typed = re.search(r'<textarea id="send_as"[^>]*>([^<]*)</textarea>', page)
    assert typed is not None and typed.group(1).strip() == OUTSIDER  # not carol's again


def test_a_toml_send_as_list_shows_its_users_ticked(console: Console, sim: SimHandle) -> None:
    mailboxes = console.mailboxes
    assert mailboxes is not None and mailboxes.store is not None and mailboxes.box is not None
    box = sim.config(send_as=[CAROL.upper(), OUTSIDER]).mailboxes[0]
    saved = mailboxes.store.save(fields_of(box), mailboxes.box)  # as `config import` does
    assert saved.fields.allow_personal_profiles
    page = admin(console).get(f"/admin/integrations/{saved.id}").text
    assert _boxes(page)[CAROL] == "checked"
    assert f">{OUTSIDER}</textarea>" in page
