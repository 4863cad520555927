"""The console fed hostile input and raced: NUL bytes, huge ids, markup, lookalike usernames
and display names; two admins disabling each other at once; concurrent guesses against the
throttle; one argon2 verification whatever the refusal. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import pytest
from argon2 import PasswordHasher

from tests.web_rig import (
    ADMIN_PASSWORD,
    AGENT_PASSWORD,
    Console,
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
