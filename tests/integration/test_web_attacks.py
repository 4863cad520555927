"""The console under attack: every POST route's CSRF check, error pages with the security
headers, sign-in redirects (``next=``), the session cookie's form, roles, and secrets kept out
of reprs. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from starlette.routing import Route
from starlette.testclient import TestClient

from libs.common.db.schema import console_audit, console_sessions, console_users
from services.web.app import build_app
from services.web.auth import token_digest
from services.web.security import CONTENT_SECURITY_POLICY, SESSION_COOKIE
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


_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")


def _post_paths(console: Console, target_id: int) -> list[str]:
    """Every POST route of the app but /login, with ``target_id`` in the user routes."""
    paths: list[str] = []
    for route in build_app(console.accounts).routes:
        if isinstance(route, Route) and "POST" in (route.methods or ()) and route.path != "/login":
            changes = (
                ("disable", "enable", "role", "password") if "{change:str}" in route.path else ("",)
            )
            for change in changes:
                path = route.path.replace("{change:str}", change)
                # Any other parameter: an id (the target user's, else no such row) or a name.
                paths.append(_PARAM.sub(lambda m: str(target_id) if m[2] == "int" else "x", path))
    return paths


def _state(console: Console) -> tuple[object, ...]:
    with console.store.engine.connect() as conn:
        users = conn.execute(select(console_users).order_by(console_users.c.id)).all()
        sessions = conn.execute(select(func.count()).select_from(console_sessions)).scalar()
        audit = conn.execute(select(func.count()).select_from(console_audit)).scalar()
    return tuple(tuple(row) for row in users), sessions, audit


def test_every_post_route_refuses_a_missing_wrong_or_other_sessions_token(
    console: Console,
) -> None:
    bob = console.store.user_by_username("bob")
    assert bob is not None
    paths = _post_paths(console, bob.id)
    assert {"/logout", "/account/password", "/admin/users", f"/admin/users/{bob.id}/role"} <= set(
        paths
    )
    other = console.client("198.51.100.20")
    sign_in(other, "alice", ADMIN_PASSWORD)
    foreign = csrf_of(other.get("/").text)
    client = console.client()
    sign_in(client, "alice", ADMIN_PASSWORD)
    data = {
        "username": "mallory",
        "role": "admin",
        "password": "mallory password 1",
        "current_password": ADMIN_PASSWORD,
        "new_password": "changed password 1",
        "confirm_password": "changed password 1",
    }
    before = _state(console)
    for path in paths:
        for token in (None, "", "forged", foreign):
            sent = data if token is None else {**data, "csrf_token": token}
            answer = client.post(path, data=sent)
            assert answer.status_code == 403, (path, token)
            assert "did not come from this site" in answer.text
    assert _state(console) == before


def test_no_get_route_changes_anything(console: Console) -> None:
    bob = console.store.user_by_username("bob")
    assert bob is not None
    client = console.client()
    sign_in(client, "alice", ADMIN_PASSWORD)
    before = _state(console)
    for path in [*_post_paths(console, bob.id), "/", "/admin/users", "/admin/audit", "/login"]:
        assert client.get(path).status_code < 500, path
    assert _state(console) == before


def _assert_headers(answer: object) -> None:
    headers = answer.headers  # type: ignore[attr-defined]
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"


def test_error_pages_carry_the_security_headers(console: Console) -> None:
    client = console.client()
    for _ in range(5):
        sign_in(client, "alice", "wrong password!!")
    throttled = sign_in(client, "alice", ADMIN_PASSWORD)
    assert throttled.status_code == 429
    sign_in(client, "bob", AGENT_PASSWORD)
    answers = [throttled, client.get("/nowhere"), client.get("/logout"), client.get("/admin/users")]
    assert [a.status_code for a in answers] == [429, 404, 405, 403]

    def broken(offset: int, limit: int) -> None:
        raise RuntimeError("the database went away")

    console.clock.advance(minutes=16)  # alice is no longer throttled
    console.store.audit_page = broken  # type: ignore[assignment,method-assign]
    crashing = TestClient(
        build_app(console.accounts),
        base_url="https://console.test",
        raise_server_exceptions=False,
        follow_redirects=False,
    )
    sign_in(crashing, "alice", ADMIN_PASSWORD)
    answers.append(crashing.get("/admin/audit"))
    assert answers[-1].status_code == 500
    assert "the database went away" not in answers[-1].text
    for answer in answers:
        _assert_headers(answer)


def test_static_files_have_their_content_type(console: Console) -> None:
    answer = console.client().get("/static/console.css")
    assert answer.headers["content-type"].startswith("text/css")


def test_the_session_cookie_is_random_hashed_and_host_only(console: Console) -> None:
    client = console.client()
    answer = sign_in(client, "alice", ADMIN_PASSWORD)
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    assert "domain=" not in cookie.lower()
    token = client.cookies[SESSION_COOKIE]
    assert len(token) >= 43  # token_urlsafe(32): 256 random bits
    with console.store.engine.connect() as conn:
        stored = conn.execute(select(console_sessions.c.token_sha256)).scalars().all()
    assert stored == [token_digest(token)] and token not in stored


def test_an_agent_is_refused_every_admin_route(console: Console) -> None:
    alice = console.store.user_by_username("alice")
    assert alice is not None
    client = console.client()
    sign_in(client, "bob", AGENT_PASSWORD)
    before = _state(console)
    admin_posts = [p for p in _post_paths(console, alice.id) if p.startswith("/admin/")]
    for path in ["/admin/users", "/admin/audit"]:
        assert client.get(path).status_code == 403
    for path in admin_posts:
        data = {"role": "agent", "password": "taken over pass", "username": "eve"}
        assert post_form(client, path, data, "/").status_code == 403, path
    assert _state(console) == before


def test_changing_your_password_renews_your_own_session_token(console: Console) -> None:
    client = console.client()
    sign_in(client, "bob", AGENT_PASSWORD)
    stolen = console.client("198.51.100.66")
    stolen.cookies[SESSION_COOKIE] = client.cookies[SESSION_COOKIE]
    assert stolen.get("/").status_code == 200
    new = {
        "current_password": AGENT_PASSWORD,
        "new_password": "bob new password",
        "confirm_password": "bob new password",
    }
    answer = post_form(client, "/account/password", new, "/account/password")
    assert answer.status_code == 200
    assert "Your password is changed" in answer.text
    assert stolen.get("/").status_code == 303
    assert client.get("/").status_code == 200
    # The new page's form works with the new session.
    again = {**new, "current_password": "bob new password", "new_password": "bob third pass"}
    again["confirm_password"] = "bob third pass"
    token = csrf_of(answer.text)
    assert client.post("/account/password", data={**again, "csrf_token": token}).status_code == 200


def test_reprs_hold_no_secret(console: Console) -> None:
    from services.web.auth import NewSession
    from services.web.config import WebSettings

    client = console.client()
    sign_in(client, "alice", ADMIN_PASSWORD)
    token = client.cookies[SESSION_COOKIE]
    current = console.accounts.current(token)
    assert current is not None
    new = NewSession("the token value", "the csrf value")
    text = " ".join(map(repr, (current, current.user, current.session, new, WebSettings())))
    for secret in (token, current.session.csrf_secret, current.user.password_hash, "the "):
        assert secret not in text


@pytest.mark.parametrize(
    "target",
    [
        "/\\evil.example",
        "/\t/evil.example",
        "\t//evil.example",
        " //evil.example",
        "https:evil.example",
        "HTTPS://evil.example",
        "javascript:alert(1)",
        "/\r\nSet-Cookie: planted=1",
        "/%0d%0aSet-Cookie:%20planted=1",
        "%2F%2Fevil.example",
        "/\u3000/evil.example",
    ],
)
def test_next_variants_stay_on_the_site_and_inject_no_header(console: Console, target: str) -> None:
    client = console.client()
    answer = sign_in(client, "alice", ADMIN_PASSWORD, target)
    location = answer.headers["location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert "\r" not in location and "\n" not in location and "\t" not in location
    assert not any(c.startswith("planted") for c in answer.headers.get_list("set-cookie"))
    assert "planted" not in client.cookies


def test_the_account_page_changes_only_your_own_password(console: Console) -> None:
    alice = console.store.user_by_username("alice")
    assert alice is not None
    client = console.client()
    sign_in(client, "bob", AGENT_PASSWORD)
    data = {
        "current_password": AGENT_PASSWORD,
        "new_password": "taken over pass",
        "confirm_password": "taken over pass",
        "user_id": str(alice.id),
        "username": "alice",
    }
    assert post_form(client, "/account/password", data, "/").status_code == 200
    after = console.store.user(alice.id)
    assert after is not None and after.password_hash == alice.password_hash
    assert sign_in(console.client(), "bob", "taken over pass").status_code == 303
