"""``mailpipe admin create-user`` and ``list-users`` through typer's CliRunner, on SQLite and
PostgreSQL: the password is asked twice or read from stdin, never an argument."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mailpipe.cli import app
from services.web.store import ConsoleStore

PASSWORD = "first admin password"


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("MAILPIPE_DATABASE_URL", database_url)
    return CliRunner()


def _user(database_url: str, username: str) -> tuple[str, str, bool] | None:
    store = ConsoleStore.open(database_url, migrate=False)
    try:
        user = store.user_by_username(username)
    finally:
        store.close()
    return (user.role, user.display_name, user.disabled) if user else None


def test_create_user_asks_the_password_twice(runner: CliRunner, database_url: str) -> None:
    args = ["admin", "create-user", "Root", "--role", "admin", "--display-name", "Root Admin"]
    done = runner.invoke(app, args, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert done.exit_code == 0, done.output
    assert "created root (admin)" in done.output
    assert PASSWORD not in done.output
    assert _user(database_url, "root") == ("admin", "Root Admin", False)


def test_create_user_reads_the_password_from_stdin(runner: CliRunner, database_url: str) -> None:
    args = ["admin", "create-user", "agent1", "--role", "agent", "--password-stdin"]
    done = runner.invoke(app, args, input=f"{PASSWORD}\n")
    assert done.exit_code == 0, done.output
    listed = runner.invoke(app, ["admin", "list-users"])
    assert listed.exit_code == 0
    assert listed.output.split("\t")[:3] == ["agent1", "agent", "active"]


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["bob", "--role", "agent"], "too short", "at least 12 characters"),
        (["bob", "--role", "owner"], PASSWORD, "unknown role 'owner'"),
        (["b o b", "--role", "agent"], PASSWORD, "Use letters, digits"),
    ],
)
def test_create_user_refuses_what_the_policy_refuses(
    runner: CliRunner, args: list[str], password: str, message: str
) -> None:
    done = runner.invoke(app, ["admin", "create-user", *args, "--password-stdin"], input=password)
    assert done.exit_code == 2
    assert message in done.output
    assert password not in done.output


def test_a_taken_username_is_one_line(runner: CliRunner) -> None:
    args = ["admin", "create-user", "root", "--role", "admin", "--password-stdin"]
    assert runner.invoke(app, args, input=PASSWORD).exit_code == 0
    again = runner.invoke(app, [*args[:2], "ROOT", *args[3:]], input=PASSWORD)
    assert again.exit_code == 2
    assert "the username 'root' is taken (pick another username)" in again.output


def test_the_password_is_never_an_argument(runner: CliRunner) -> None:
    done = runner.invoke(app, ["admin", "create-user", "x", "--role", "admin", "--password", "p"])
    assert done.exit_code != 0
    assert "No such option" in done.output
