"""The console's sign-in, sessions, CSRF checks and headers: the real app on SQLite and
PostgreSQL, driven by Starlette's TestClient, with a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from services.web.domain.body_limits import BodyLimits
from services.web.domain.tokens import SessionPolicy
from services.web.security import CONTENT_SECURITY_POLICY, SESSION_COOKIE
from tests.web_rig import ADMIN_PASSWORD, Console, csrf_of, open_console, sign_in

TOO_MANY = "Too many failed sign-ins; try again in"


@pytest.fixture
def console(database_url: str) -> Iterator[Console]:
    policy = SessionPolicy(idle=timedelta(hours=8), absolute=timedelta(days=7))
    for console in open_console(database_url, policy):
        console.add_user("alice", "admin", ADMIN_PASSWORD)
        yield console


def test_sign_in_opens_a_session_and_goes_to_next(console: Console) -> None:
    client = console.client()
    answer = sign_in(client, "Alice", ADMIN_PASSWORD, "/admin/audit?page=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/audit?page=1"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("mailpipe_s"))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= flags
    home = client.get("/")
    assert home.status_code == 200
    assert "alice" in home.text and "admin" in home.text


def test_wrong_password_and_unknown_user_are_refused_alike(console: Console) -> None:
    client = console.client()
    wrong = sign_in(client, "alice", "not the password!")
    unknown = sign_in(client, "mallory", "not the password!")
    assert wrong.status_code == unknown.status_code == 400
    assert "Wrong username or password." in wrong.text and "Wrong username" in unknown.text
    assert SESSION_COOKIE not in client.cookies
    entries, _ = console.store.audit_page(0, 10)
    reasons = [e.detail["reason"] for e in entries if e.action == "sign-in failed"]
    assert reasons == ["unknown user", "wrong password"]


def test_a_sign_in_form_over_the_form_cap_is_refused_with_413(console: Console) -> None:
    console.body_limits = BodyLimits(form_bytes=4096)
    client = console.client()
    answer = sign_in(client, "alice", ADMIN_PASSWORD + "p" * 5000)
    assert answer.status_code == 413 and "more than this console takes (4 KiB)" in answer.text
    assert SESSION_COOKIE not in client.cookies
    entries, _ = console.store.audit_page(0, 10)
    assert [e for e in entries if e.action.startswith("sign-in")] == []  # not even tried
    assert sign_in(client, "alice", ADMIN_PASSWORD).status_code == 303


def test_five_failures_throttle_the_username_until_the_window_passes(console: Console) -> None:
    client = console.client()
    for _ in range(5):
        assert sign_in(client, "alice", "wrong password!!").status_code == 400
    refused = sign_in(client, "alice", ADMIN_PASSWORD)
    assert refused.status_code == 429
    assert f"{TOO_MANY} 15 minutes." in refused.text
    console.clock.advance(minutes=10)
    assert f"{TOO_MANY} 5 minutes." in sign_in(client, "ALICE", ADMIN_PASSWORD).text
    console.clock.advance(minutes=5, seconds=1)
    assert sign_in(client, "alice", ADMIN_PASSWORD).status_code == 303


def test_twenty_failures_throttle_the_client_address(console: Console) -> None:
    client = console.client("198.51.100.9")
    for n in range(20):
        assert sign_in(client, f"guess{n}", "wrong password!!").status_code == 400
    assert sign_in(client, "alice", ADMIN_PASSWORD).status_code == 429
    # Another address is not throttled by this one's failures.
    assert sign_in(console.client("198.51.100.10"), "alice", ADMIN_PASSWORD).status_code == 303


@pytest.mark.parametrize("token", ["", "forged"])
def test_the_login_form_needs_its_own_token(console: Console, token: str) -> None:
    client = console.client()
    client.get("/login")
    data = {"username": "alice", "password": ADMIN_PASSWORD, "next": "/"}
    if token:
        data["csrf_token"] = token
    answer = client.post("/login", data=data)
    assert answer.status_code == 403
    assert "did not come from this site" in answer.text
    assert SESSION_COOKIE not in client.cookies


@pytest.mark.parametrize("token", [None, "forged"])
def test_a_post_without_the_sessions_token_is_refused(console: Console, token: str | None) -> None:
    client = console.client()
    sign_in(client, "alice", ADMIN_PASSWORD)
    data = {"username": "bob", "role": "agent", "password": "a long password 1"}
    if token is not None:
        data["csrf_token"] = token
    assert client.post("/admin/users", data=data).status_code == 403
    assert client.post("/logout", data={"csrf_token": token or ""}).status_code == 403
    assert console.store.user_by_username("bob") is None
    assert client.get("/").status_code == 200


def test_anonymous_users_go_to_login_with_next(console: Console) -> None:
    answer = console.client().get("/admin/audit?page=2")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fadmin%2Faudit%3Fpage%3D2"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "evil"]
)
def test_next_never_leaves_the_site(console: Console, target: str) -> None:
    client = console.client()
    assert f'value="{target}"' not in client.get("/login", params={"next": target}).text
    answer = sign_in(client, "alice", ADMIN_PASSWORD, target)
    assert answer.headers["location"] == "/"


def test_a_session_ends_when_idle(console: Console) -> None:
    client = console.client()
    sign_in(client, "alice", ADMIN_PASSWORD)
    console.clock.advance(hours=7, minutes=59)
    assert client.get("/").status_code == 200
    console.clock.advance(hours=8)
    assert client.get("/").status_code == 303


def test_a_session_ends_after_its_absolute_lifetime(console: Console) -> None:
    client = console.client()
    sign_in(client, "alice", ADMIN_PASSWORD)
    for _ in range(23):  # used every 7 hours: never idle, but 7 days old at the end
        console.clock.advance(hours=7)
        assert client.get("/").status_code == 200
    console.clock.advance(hours=7)
    assert client.get("/").status_code == 303


def test_sign_in_rotates_the_session_and_sign_out_ends_it(console: Console) -> None:
    client = console.client()
    sign_in(client, "alice", ADMIN_PASSWORD)
    first = client.cookies[SESSION_COOKIE]
    sign_in(client, "alice", ADMIN_PASSWORD)
    second = client.cookies[SESSION_COOKIE]
    assert first != second
    stale = console.client()
    stale.cookies[SESSION_COOKIE] = first
    assert stale.get("/").status_code == 303
    token = csrf_of(client.get("/").text)
    assert client.post("/logout", data={"csrf_token": token}).headers["location"] == "/login"
    replay = console.client()
    replay.cookies[SESSION_COOKIE] = second
    assert replay.get("/").status_code == 303


def test_a_disabled_users_session_is_refused(console: Console) -> None:
    bob = console.add_user("bob", "agent", "bob password 123")
    client = console.client()
    sign_in(client, "bob", "bob password 123")
    assert client.get("/").status_code == 200
    console.store.change_user(bob.id, disabled=True)
    assert client.get("/").status_code == 303
    assert sign_in(client, "bob", "bob password 123").status_code == 400


def test_security_headers_on_every_response(console: Console) -> None:
    client = console.client()
    answers = [client.get("/login"), client.get("/"), client.get("/nowhere")]
    sign_in(client, "alice", ADMIN_PASSWORD)
    for path in ("/", "/admin/users", "/admin/audit", "/account/password", "/healthz"):
        answers.append(client.get(path))
    answers.append(client.get("/static/console.css"))
    for answer in answers:
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
        assert answer.headers["x-frame-options"] == "DENY"
    assert all(a.headers["cache-control"] == "no-store" for a in answers[:-1])
    assert all("<script" not in a.text and "style=" not in a.text for a in answers)


def test_the_password_hash_is_renewed_when_its_parameters_change(console: Console) -> None:
    from argon2 import PasswordHasher

    weak = console.store.user_by_username("alice")
    assert weak is not None
    console.accounts._hasher = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    assert sign_in(console.client(), "alice", ADMIN_PASSWORD).status_code == 303
    renewed = console.store.user_by_username("alice")
    assert renewed is not None and renewed.password_hash != weak.password_hash
    assert "m=16,t=2" in renewed.password_hash
