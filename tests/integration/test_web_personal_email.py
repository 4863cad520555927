"""An agent's personal email address (the one Send As is granted for): set by an admin on
/admin/users, validated, audited, shown on the user's home page; refused for an agent and
without the session's token. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from libs.common.db.schema import console_audit
from tests.web_rig import (
    ADMIN_PASSWORD,
    AGENT_PASSWORD,
    Console,
    open_console,
    post_form,
    sign_in,
)


@pytest.fixture
def console(database_url: str) -> Iterator[Console]:
    for opened in open_console(database_url):
        opened.add_user("alice", "admin", ADMIN_PASSWORD)
        opened.add_user("bob", "agent", AGENT_PASSWORD)
        yield opened


def _bob_id(console: Console) -> int:
    return next(u.id for u in console.store.users() if u.username == "bob")


def test_an_admin_sets_it_and_the_agent_sees_it(console: Console) -> None:
    alice = console.client()
    assert sign_in(alice, "alice", ADMIN_PASSWORD).status_code == 303
    url = f"/admin/users/{_bob_id(console)}/email"
    bad = post_form(alice, url, {"personal_email": "not an address"}, "/admin/users")
    assert bad.status_code == 400 and "bob: enter an email address" in bad.text
    assert console.store.user(_bob_id(console)).personal_email is None  # type: ignore[union-attr]
    done = post_form(alice, url, {"personal_email": " Bob.Smith@Contoso.com "}, "/admin/users")
    assert done.status_code == 200 and "bob.smith@contoso.com" in done.text
    assert 'value="bob.smith@contoso.com"' in done.text
    with console.store.engine.connect() as conn:
        row = conn.execute(
            select(console_audit).where(console_audit.c.action == "personal email changed")
        ).one()
    assert (row.actor, row.target) == ("alice", "bob")
    assert row.detail == {"before": None, "after": "bob.smith@contoso.com"}

    bob = console.client()
    assert sign_in(bob, "bob", AGENT_PASSWORD).status_code == 303
    assert "bob.smith@contoso.com" in bob.get("/").text
    cleared = post_form(alice, url, {"personal_email": ""}, "/admin/users")
    assert cleared.status_code == 200 and "is cleared" in cleared.text
    assert "not set: an admin sets it" in bob.get("/").text


def test_an_agent_and_a_missing_token_are_refused(console: Console) -> None:
    bob = console.client()
    assert sign_in(bob, "bob", AGENT_PASSWORD).status_code == 303
    url = f"/admin/users/{_bob_id(console)}/email"
    refused = post_form(bob, url, {"personal_email": "bob@contoso.com"}, "/")
    assert refused.status_code == 403
    alice = console.client()
    assert sign_in(alice, "alice", ADMIN_PASSWORD).status_code == 303
    assert alice.post(url, data={"personal_email": "bob@contoso.com"}).status_code == 403
    assert console.store.user(_bob_id(console)).personal_email is None  # type: ignore[union-attr]
