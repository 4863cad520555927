"""The console's admin pages and your own password: roles, the last admin, the audit log, and
no secret in the audit table, the logs or any page. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import structlog
from sqlalchemy import select

from libs.common.db.schema import console_audit, console_sessions, console_users
from services.web.security import SESSION_COOKIE
from tests.web_rig import (
    ADMIN_PASSWORD,
    AGENT_PASSWORD,
    Console,
    csrf_of,
    open_console,
    post_form,
    sign_in,
)


@pytest.fixture
def console(database_url: str) -> Iterator[Console]:
    for console in open_console(database_url):
        console.add_user("alice", "admin", ADMIN_PASSWORD)
        console.add_user("bob", "agent", AGENT_PASSWORD)
        yield console


def test_an_agent_is_refused_the_admin_pages(console: Console) -> None:
    client = console.client()
    sign_in(client, "bob", AGENT_PASSWORD)
    for path in ("/admin/users", "/admin/audit"):
        answer = client.get(path)
        assert answer.status_code == 403
        assert "This page is for the admin role only." in answer.text
    data = {"username": "carol", "role": "admin", "password": "carol password 1"}
    assert post_form(client, "/admin/users", data, "/").status_code == 403
    assert console.store.user_by_username("carol") is None
    home = client.get("/")
    assert "/admin/users" not in home.text and "agent" in home.text


def test_an_admin_creates_a_user_under_the_password_policy(console: Console) -> None:
    client = console.client()
    sign_in(client, "alice", ADMIN_PASSWORD)
    short = {"username": "carol", "role": "agent", "password": "short"}
    refused = post_form(client, "/admin/users", short, "/admin/users")
    assert refused.status_code == 400
    assert 'aria-describedby="password-error"' in refused.text
    assert "at least 12 characters" in refused.text
    same = {"username": "carol.example", "role": "agent", "password": "Carol.Example"}
    assert "must not be the username" in post_form(client, "/admin/users", same, "/").text
    good = {
        "username": "Carol",
        "display_name": "Carol C",
        "role": "agent",
        "password": "carol password 1",
    }
    assert post_form(client, "/admin/users", good, "/").status_code == 200
    taken = post_form(client, "/admin/users", {**good, "username": "CAROL"}, "/")
    assert "This username is taken." in taken.text
    assert sign_in(console.client(), "carol", "carol password 1").status_code == 303


def _user_id(console: Console, name: str) -> int:
    user = console.store.user_by_username(name)
    assert user is not None
    return user.id


def test_the_last_active_admin_cannot_be_disabled_or_demoted(console: Console) -> None:
    client = console.client()
    sign_in(client, "alice", ADMIN_PASSWORD)
    alice, bob = _user_id(console, "alice"), _user_id(console, "bob")
    disable = post_form(client, f"/admin/users/{alice}/disable", {}, "/")
    assert disable.status_code == 409 and "last active admin" in disable.text
    demote = post_form(client, f"/admin/users/{alice}/role", {"role": "agent"}, "/")
    assert demote.status_code == 409
    assert post_form(client, f"/admin/users/{bob}/role", {"role": "admin"}, "/").status_code == 200
    assert (
        post_form(client, f"/admin/users/{alice}/role", {"role": "agent"}, "/").status_code == 200
    )
    assert client.get("/admin/users").status_code == 403
    assert console.store.active_admins() == 1


def test_disable_enable_and_reset_end_the_targets_sessions(console: Console) -> None:
    admin, agent = console.client(), console.client()
    sign_in(admin, "alice", ADMIN_PASSWORD)
    sign_in(agent, "bob", AGENT_PASSWORD)
    bob = _user_id(console, "bob")
    assert post_form(admin, f"/admin/users/{bob}/disable", {}, "/").status_code == 200
    assert agent.get("/").status_code == 303
    assert post_form(admin, f"/admin/users/{bob}/enable", {}, "/").status_code == 200
    sign_in(agent, "bob", AGENT_PASSWORD)
    reset = post_form(admin, f"/admin/users/{bob}/password", {"password": "new bob pass 1"}, "/")
    assert reset.status_code == 200
    assert agent.get("/").status_code == 303
    assert sign_in(agent, "bob", "new bob pass 1").status_code == 303


def test_changing_your_password_ends_your_other_sessions(console: Console) -> None:
    here, elsewhere = console.client(), console.client()
    sign_in(here, "bob", AGENT_PASSWORD)
    sign_in(elsewhere, "bob", AGENT_PASSWORD)
    wrong = {
        "current_password": "not it at all",
        "new_password": "bob new password",
        "confirm_password": "bob new password",
    }
    answer = post_form(here, "/account/password", wrong, "/account/password")
    assert answer.status_code == 400
    assert 'aria-describedby="current_password-error"' in answer.text
    right = {**wrong, "current_password": AGENT_PASSWORD}
    assert post_form(here, "/account/password", right, "/account/password").status_code == 200
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 303
    assert sign_in(console.client(), "bob", "bob new password").status_code == 303


def test_the_audit_log_is_newest_first_and_paged(console: Console) -> None:
    client = console.client()
    for _ in range(55):
        console.clock.advance(seconds=1)
        sign_in(client, "bob", "wrong password!!", "/")
        console.store.clear_failures("bob")
    sign_in(client, "alice", ADMIN_PASSWORD)
    first = client.get("/admin/audit")
    assert "page 1 of 2" in first.text
    actions = re.findall(r"<td>(signed in|sign-in failed|user created)</td>", first.text)
    assert actions[0] == "signed in" and len(actions) == 50
    second = client.get("/admin/audit?page=2")
    assert re.findall(r"<td>(user created)</td>", second.text) == ["user created"] * 2


def test_every_change_is_audited_and_no_secret_is_stored_logged_or_shown(
    console: Console,
) -> None:
    with structlog.testing.capture_logs() as logs:
        _every_change(console)
    assert {"console sign-in", "console sign-in refused"} <= {entry["event"] for entry in logs}
    with console.store.engine.connect() as conn:
        audit = conn.execute(select(console_audit)).all()
        hashes = conn.execute(select(console_users.c.password_hash)).scalars().all()
        csrf = conn.execute(select(console_sessions.c.csrf_secret)).scalars().all()
    actions = {row.action for row in audit}
    assert actions >= {
        "user created",
        "signed in",
        "sign-in failed",
        "signed out",
        "user disabled",
        "user enabled",
        "role changed",
        "password reset",
        "password changed",
    }
    # The CSRF secrets are in their own forms by design; nothing else of these is anywhere.
    shown_nowhere = [
        ADMIN_PASSWORD,
        AGENT_PASSWORD,
        "dave password 1",
        "dave password 2",
        "alice password 2",
        *hashes,
        *console.cookies_seen,
    ]
    audit_text = " ".join(str(tuple(row)) for row in audit)
    logs_text = " ".join(str(entry) for entry in logs)
    for secret in [*shown_nowhere, *csrf]:
        assert secret not in audit_text and secret not in logs_text
    for secret in shown_nowhere:
        assert not any(secret in page for page in console.pages)


def _every_change(console: Console) -> None:
    client = console.client()
    sign_in(client, "alice", "a wrong password")
    sign_in(client, "alice", ADMIN_PASSWORD)
    console.cookies_seen.append(client.cookies[SESSION_COOKIE])
    post_form(
        client,
        "/admin/users",
        {"username": "dave", "role": "agent", "password": "dave password 1"},
        "/",
    )
    dave = _user_id(console, "dave")
    for change, data in (
        ("disable", {}),
        ("enable", {}),
        ("role", {"role": "admin"}),
        ("password", {"password": "dave password 2"}),
    ):
        post_form(client, f"/admin/users/{dave}/{change}", data, "/")
    own = {
        "current_password": ADMIN_PASSWORD,
        "new_password": "alice password 2",
        "confirm_password": "alice password 2",
    }
    post_form(client, "/account/password", own, "/account/password")
    client.get("/admin/users")
    client.get("/admin/audit")
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/").text)})
