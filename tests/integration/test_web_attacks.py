"""The console under attack: every POST route's CSRF check, error pages with the security
headers, hostile input (NUL bytes, huge ids, markup, lookalike usernames) and the session
cookie's form. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import pytest
from argon2 import PasswordHasher
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

#: "alice" in full-width letters, which NFKC makes plain ASCII.
FULL_WIDTH_ALICE = "\uff41\uff4c\uff49\uff43\uff45"


@pytest.fixture
def console(database_url: str) -> Iterator[Console]:
    for console in open_console(database_url):
        console.add_user("alice", "admin", ADMIN_PASSWORD)
        console.add_user("bob", "agent", AGENT_PASSWORD)
        yield console


def _post_paths(console: Console, target_id: int) -> list[str]:
    """Every POST route of the app but /login, with ``target_id`` in the user routes."""
    paths: list[str] = []
    for route in build_app(console.accounts).routes:
        if isinstance(route, Route) and "POST" in (route.methods or ()) and route.path != "/login":
            path = route.path.replace("{user_id:int}", str(target_id))
            changes = ("disable", "enable", "role", "password") if "{change:str}" in path else ("",)
            paths.extend(path.replace("{change:str}", change) for change in changes)
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
        assert client.get(path).status_code in (200, 405), path
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


@pytest.mark.parametrize("username", ["alice\x00", "\x00", "al\x00ice", "a" * 10_000])
def test_a_hostile_username_at_sign_in_is_a_refusal_not_a_crash(
    console: Console, username: str
) -> None:
    answer = sign_in(console.client(), username, "whatever password")
    assert answer.status_code == 400
    assert "Wrong username or password." in answer.text


@pytest.mark.parametrize(
    "variant", ["ALICE", " Alice ", FULL_WIDTH_ALICE, FULL_WIDTH_ALICE.upper()]
)
def test_username_variants_are_one_user_for_sign_in_and_throttling(
    console: Console, variant: str
) -> None:
    client = console.client()
    assert sign_in(client, variant, ADMIN_PASSWORD).status_code == 303
    for _ in range(5):
        assert sign_in(client, variant, "wrong password!!").status_code == 400
    assert sign_in(client, "alice", ADMIN_PASSWORD).status_code == 429


def test_a_lookalike_of_a_taken_username_is_taken(console: Console) -> None:
    client = console.client()
    sign_in(client, "alice", ADMIN_PASSWORD)
    full_width_bob = "\uff22\uff2f\uff22"
    data = {"username": full_width_bob, "role": "admin", "password": "lookalike password"}
    answer = post_form(client, "/admin/users", data, "/")
    assert answer.status_code == 400
    assert "This username is taken." in answer.text


@pytest.mark.parametrize(
    ("display_name", "problem"),
    [
        ("Dave\x00", "control characters"),
        ("Dave\x1b[2J", "control characters"),
        ("d" * 201, "at most 200 characters"),
    ],
)
def test_a_display_name_with_control_characters_or_too_long_is_refused(
    console: Console, display_name: str, problem: str
) -> None:
    client = console.client()
    sign_in(client, "alice", ADMIN_PASSWORD)
    data = {"username": "dave", "display_name": display_name, "role": "agent"}
    answer = post_form(client, "/admin/users", {**data, "password": "dave password 1"}, "/")
    assert answer.status_code == 400
    assert problem in answer.text
    assert console.store.user_by_username("dave") is None


def test_user_values_and_audit_details_are_rendered_escaped(console: Console) -> None:
    markup = '<img src=x onerror="alert(1)">'
    client = console.client()
    sign_in(client, markup, "whatever password")
    sign_in(client, "alice", ADMIN_PASSWORD)
    data = {"username": "dave", "display_name": markup, "role": "agent"}
    post_form(client, "/admin/users", {**data, "password": "dave password 1"}, "/")
    sign_in(dave := console.client(), "dave", "dave password 1")
    for page in (client.get("/admin/users"), client.get("/admin/audit"), dave.get("/")):
        assert page.status_code == 200
        assert markup not in page.text
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page.text


@pytest.mark.parametrize("user_id", ["99999999999999999999", "9223372036854775808"])
def test_a_huge_user_id_is_no_such_user(console: Console, user_id: str) -> None:
    client = console.client()
    sign_in(client, "alice", ADMIN_PASSWORD)
    answer = post_form(client, f"/admin/users/{user_id}/disable", {}, "/")
    assert answer.status_code == 404
    assert "There is no such user." in answer.text


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


@pytest.mark.parametrize("change", [("disable", {}), ("role", {"role": "agent"})])
def test_the_last_admin_survives_a_check_made_before_another_request_committed(
    console: Console, change: tuple[str, dict[str, str]]
) -> None:
    alice = console.store.user_by_username("alice")
    assert alice is not None
    client = console.client()
    sign_in(client, "alice", ADMIN_PASSWORD)
    # What the page's own check sees when a concurrent request has not yet committed the
    # disabling of the other admin: two active admins.
    console.store.active_admins = lambda: 2  # type: ignore[method-assign]
    path, data = change
    answer = post_form(client, f"/admin/users/{alice.id}/{path}", data, "/")
    assert answer.status_code == 409
    assert "This is the last active admin" in answer.text
    after = console.store.user(alice.id)
    assert after is not None and after.active_admin


def test_two_admins_disabling_each_other_at_once_leave_one(console: Console) -> None:
    for round_ in range(5):
        for user in console.store.users():  # only the two new admins are active
            console.store.change_user(user.id, disabled=True)
        one = console.add_user(f"one{round_}", "admin", "admin one password")
        two = console.add_user(f"two{round_}", "admin", "admin two password")
        done = _at_once(console, [one.id, two.id])
        assert sorted(done) == [False, True]
        assert console.store.active_admins() == 1


def _at_once(console: Console, user_ids: list[int]) -> list[bool]:
    """Each of ``user_ids`` disabled by a thread of its own, all starting together."""
    start = threading.Barrier(len(user_ids))

    def disable(user_id: int) -> bool:
        start.wait()
        return console.store.change_keeping_an_admin(user_id, disabled=True)

    with ThreadPoolExecutor(len(user_ids)) as pool:
        return list(pool.map(disable, user_ids))


def test_throttled_sign_ins_are_logged_not_written_to_the_audit_log(console: Console) -> None:
    client = console.client()
    for _ in range(30):
        sign_in(client, "alice", "wrong password!!")
    entries, _ = console.store.audit_page(0, 100)
    reasons = [e.detail["reason"] for e in entries if e.action == "sign-in failed"]
    assert reasons == ["wrong password"] * 5


def test_concurrent_guesses_get_no_more_tries_than_the_throttle_allows(console: Console) -> None:
    start = threading.Barrier(16)

    def guess(n: int) -> int:
        start.wait()
        return console.accounts.sign_in("alice", f"wrong password {n}", "198.51.100.30").status

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(guess, range(16)))
    # A refused guess's row is counted while it lives, so under load fewer may get through.
    assert statuses.count(400) <= 5
    assert statuses.count(400) + statuses.count(429) == 16


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


def test_unknown_user_wrong_password_and_disabled_each_run_one_verification(
    console: Console,
) -> None:
    bob = console.store.user_by_username("bob")
    assert bob is not None
    console.store.change_user(bob.id, disabled=True)
    calls: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            calls.append(str(hash))
            return super().verify(hash, password)

    console.accounts._hasher = Counting(time_cost=1, memory_cost=8, parallelism=1)
    for username, password in (("mallory", "x" * 20), ("alice", "x" * 20), ("bob", AGENT_PASSWORD)):
        calls.clear()
        answer = console.accounts.sign_in(username, password, "198.51.100.40")
        assert answer.status == 400 and answer.message == "Wrong username or password."
        assert len(calls) == 1
        assert calls[0].startswith("$argon2id$")
