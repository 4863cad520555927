"""The console's rules, without a server or a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.web.domain.passwords import (
    display_name_problem,
    normalize_username,
    password_problem,
    username_problem,
)
from services.web.domain.roles import last_admin_problem, may, parse_role
from services.web.domain.throttle import ThrottlePolicy, throttle_wait, throttled_message
from services.web.domain.tokens import SessionPolicy, safe_next, session_state, token_matches

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_password_policy() -> None:
    assert password_problem("alice", "short") == "A password has at least 12 characters."
    assert password_problem("alice.example", "Alice.Example") is not None
    assert password_problem("alice.example1", "ALICE.EXAMPLE1") == (
        "The password must not be the username."
    )
    assert password_problem("alice", "x" * 1025) == "A password has at most 1024 characters."
    assert password_problem("alice", "twelve chars") is None


def test_usernames_are_case_insensitive_and_plain() -> None:
    assert normalize_username("  Alice@Contoso.com ") == "alice@contoso.com"
    assert username_problem("alice@contoso.com") is None
    assert username_problem("") == "Enter a username."
    assert username_problem("a b") is not None
    assert username_problem("-alice") is not None
    assert username_problem("a" * 65) is not None


def test_lookalike_usernames_normalize_to_one() -> None:
    full_width = "\uff21\uff2c\uff29\uff23\uff25"  # ALICE in full-width letters
    assert normalize_username(full_width) == "alice"
    assert normalize_username("\u3000Alice\u3000") == "alice"  # ideographic spaces
    assert normalize_username("\u212aate") == "kate"  # KELVIN SIGN
    assert normalize_username("STRASSE") == normalize_username("stra\u00dfe") == "strasse"
    assert username_problem(normalize_username("al\u0456ce")) is not None  # Cyrillic i


def test_display_names_are_bounded_and_printable() -> None:
    assert display_name_problem("Alice Admin") is None
    assert display_name_problem("") is None
    assert display_name_problem("\u00c9lise \u5f20") is None
    assert display_name_problem("d" * 201) == "A display name has at most 200 characters."
    for hostile in ("a\x00", "a\x1b[2J", "a\nb", "\u202egnp.exe"):
        assert display_name_problem(hostile) == "A display name has no control characters."


def test_throttle_by_username_after_five_failures_in_the_window() -> None:
    four = [NOW - timedelta(minutes=m) for m in (1, 2, 3, 4)]
    assert throttle_wait(four, four, NOW) is None
    five = [*four, NOW - timedelta(minutes=10)]
    # Allowed again when the oldest of the five leaves the 15-minute window.
    assert throttle_wait(five, [], NOW) == timedelta(minutes=5)


def test_failures_outside_the_window_do_not_count() -> None:
    old = [NOW - timedelta(minutes=16)] * 10
    assert throttle_wait(old, old, NOW) is None


def test_throttle_by_client_after_twenty_failures() -> None:
    nineteen = [NOW - timedelta(seconds=s) for s in range(1, 20)]
    assert throttle_wait([], nineteen, NOW) is None
    wait = throttle_wait([], [*nineteen, NOW], NOW)
    assert wait is not None and wait > timedelta(minutes=14)


def test_throttle_limits_are_a_policy() -> None:
    policy = ThrottlePolicy(per_username=2, per_client=3, window=timedelta(minutes=1))
    assert throttle_wait([NOW, NOW], [], NOW, policy) == timedelta(minutes=1)


@pytest.mark.parametrize(
    ("wait", "text"),
    [
        (timedelta(seconds=5), "try again in 1 minute."),
        (timedelta(minutes=14, seconds=1), "try again in 15 minutes."),
    ],
)
def test_throttled_message(wait: timedelta, text: str) -> None:
    assert throttled_message(wait) == f"Too many failed sign-ins; {text}"


def test_roles() -> None:
    assert may("admin", "admin") and may("admin", "agent") and may("agent", "agent")
    assert not may("agent", "admin")
    assert not may("root", "agent")
    assert parse_role("agent") == "agent" and parse_role("Admin") is None


def test_the_last_active_admin_stays() -> None:
    assert last_admin_problem(1, True) is not None
    assert last_admin_problem(2, True) is None
    assert last_admin_problem(1, False) is None


def test_csrf_tokens_match_only_when_equal_and_present() -> None:
    assert token_matches("abc", "abc")
    assert not token_matches("abc", "abd")
    assert not token_matches("abc", None)
    assert not token_matches(None, "")
    assert not token_matches("", "")


def test_session_expiry() -> None:
    policy = SessionPolicy(idle=timedelta(hours=8), absolute=timedelta(days=7))
    created = NOW - timedelta(days=1)
    assert session_state(created, NOW - timedelta(hours=7), NOW, policy) == "live"
    assert session_state(created, NOW - timedelta(hours=8), NOW, policy) == "idle"
    old = NOW - timedelta(days=7)
    assert session_state(old, NOW - timedelta(minutes=1), NOW, policy) == "expired"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/admin/users", "/admin/users"),
        ("/admin/audit?page=2", "/admin/audit?page=2"),
        (None, "/"),
        ("", "/"),
        ("admin", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/\nLocation: https://evil.example", "/"),
    ],
)
def test_next_is_a_local_path_only(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected
