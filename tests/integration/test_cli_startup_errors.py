"""Every command that cannot start says why in exactly one line on stderr, with what to do,
and exits 2: no or empty config, a broker that is down or refuses the login, a database role
or database that does not exist, a namespace no service declared. No traceback, no password.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "s3cret-pw"
MISSING_ROLE_URL = f"postgresql+psycopg://nosuchrole:{PASSWORD}@127.0.0.1:5432/nosuchdb"
SEND = ["send", "--mailbox", "support@contoso.com", "--to", "a@example.org"]
SEND += ["--subject", "hello", "--body", "hi"]


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mailpipe(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAILPIPE_")}
    clean.update(PYTHONPATH=str(REPO), MAILPIPE_BLOB_DIR=str(cwd / "blobs"), **env)
    return subprocess.run(
        [sys.executable, "-m", "mailpipe", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def one_line_error(done: subprocess.CompletedProcess[str], command: str) -> str:
    """The single stderr line of a failed start; asserts exit 2 and no traceback or secret."""
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"mailpipe {command}: "), lines[0]
    assert "Traceback" not in done.stderr + done.stdout
    assert PASSWORD not in done.stderr + done.stdout
    return lines[0]


def config_file(tmp_path: Path, mailboxes: int = 1) -> Path:
    path = tmp_path / "mailpipe.toml"
    entry = (
        '[[mailboxes]]\naddress = "support@contoso.com"\ntenant_id = "t"\nclient_id = "c"\n'
        f'client_secret = "{PASSWORD}"\n'
    )
    path.write_text(entry * mailboxes)
    return path


@pytest.mark.parametrize("command", ["run", "fetcher", "ticketer", "sender"])
def test_no_config_refuses_to_start_and_says_how_to_give_one(command: str, tmp_path: Path) -> None:
    line = one_line_error(mailpipe(tmp_path, command), command)
    assert "MAILPIPE_CONFIG is not set" in line and "docs/configuration.md" in line


@pytest.mark.parametrize("command", ["run", "sender"])
def test_a_config_without_mailboxes_refuses_to_start(command: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("[graph]\n")
    line = one_line_error(mailpipe(tmp_path, command, MAILPIPE_CONFIG=str(empty)), command)
    assert f"{empty}: no mailboxes configured" in line and "[[mailboxes]]" in line


@pytest.mark.parametrize("command", ["ticketer", "sender"])
def test_a_broker_that_is_down_is_one_line(command: str, tmp_path: Path) -> None:
    url = f"amqp://guest:{PASSWORD}@127.0.0.1:{closed_port()}//"
    done = mailpipe(
        tmp_path, command, MAILPIPE_CONFIG=str(config_file(tmp_path)), MAILPIPE_AMQP_URL=url
    )
    line = one_line_error(done, command)
    assert "no broker answers at 127.0.0.1:" in line and "start RabbitMQ" in line


def test_a_broker_that_refuses_the_password_is_one_line(tmp_path: Path, amqp_url: str) -> None:
    url = amqp_url.replace("guest:guest@", f"guest:{PASSWORD}@")
    assert url != amqp_url, "the test broker is expected at guest:guest"
    done = mailpipe(
        tmp_path, "sender", MAILPIPE_CONFIG=str(config_file(tmp_path)), MAILPIPE_AMQP_URL=url
    )
    line = one_line_error(done, "sender")
    assert "refused the login of user 'guest'" in line and "password" in line


def test_a_database_role_that_does_not_exist_is_one_line(tmp_path: Path, amqp_url: str) -> None:
    env = {
        "MAILPIPE_CONFIG": str(config_file(tmp_path)),
        "MAILPIPE_AMQP_URL": amqp_url,
        "MAILPIPE_DATABASE_URL": MISSING_ROLE_URL,
    }
    for command in ("ticketer", "run", "migrate"):
        line = one_line_error(mailpipe(tmp_path, command, **env), command)
        assert 'role "nosuchrole" does not exist' in line and "createuser" in line
    line = one_line_error(mailpipe(tmp_path, "records", "list", **env), "records list")
    assert 'role "nosuchrole"' in line


def test_a_bad_environment_variable_is_named(tmp_path: Path) -> None:
    done = mailpipe(tmp_path, "ticketer", MAILPIPE_PREFETCH="many")
    line = one_line_error(done, "ticketer")
    assert line.startswith("mailpipe ticketer: MAILPIPE_PREFETCH: ")


def test_send_to_a_broker_that_is_down_says_what_to_start(tmp_path: Path) -> None:
    url = f"amqp://guest:{PASSWORD}@127.0.0.1:{closed_port()}//"
    done = mailpipe(tmp_path, *SEND, MAILPIPE_AMQP_URL=url)
    line = one_line_error(done, "send")
    assert "no broker answers" in line and "MAILPIPE_AMQP_URL" in line
    assert done.stdout == ""  # no retry warnings where the job id would go


def test_send_with_a_wrong_password_is_one_line_and_exit_2(tmp_path: Path, amqp_url: str) -> None:
    url = amqp_url.replace("guest:guest@", f"guest:{PASSWORD}@")
    done = mailpipe(tmp_path, *SEND, MAILPIPE_AMQP_URL=url)
    assert "refused the login" in one_line_error(done, "send")
    assert done.stdout == ""


@pytest.mark.parametrize("wait", [False, True])
def test_send_to_a_namespace_no_service_declared_says_what_to_start(
    wait: bool, tmp_path: Path, amqp_url: str, namespace: str
) -> None:
    args = [*SEND, "--wait", "--timeout", "5"] if wait else SEND
    done = mailpipe(tmp_path, *args, MAILPIPE_AMQP_URL=amqp_url, MAILPIPE_NAMESPACE=namespace)
    line = one_line_error(done, "send")
    assert f"namespace {namespace!r} has no queues" in line
    assert f"MAILPIPE_NAMESPACE={namespace}" in line and "Broker.declare" not in line


@pytest.mark.parametrize("command", [["records", "list"], ["quarantine", "list"]])
def test_looking_at_records_never_creates_a_database(command: list[str], tmp_path: Path) -> None:
    done = mailpipe(tmp_path, *command)
    line = one_line_error(done, " ".join(command))
    assert f"no database at {tmp_path / 'mailpipe.db'}" in line
    assert "MAILPIPE_DATABASE_URL is not set" in line
    assert not (tmp_path / "mailpipe.db").exists()
    elsewhere = mailpipe(tmp_path, *command, MAILPIPE_DATABASE_URL="sqlite:///typo/x.db")
    assert "no database at" in one_line_error(elsewhere, " ".join(command))
    assert not (tmp_path / "typo").exists()


def test_run_with_a_broker_that_refuses_names_the_option(tmp_path: Path, amqp_url: str) -> None:
    url = amqp_url.replace("guest:guest@", f"guest:{PASSWORD}@")
    done = mailpipe(
        tmp_path,
        "run",
        "--broker-url",
        url,
        MAILPIPE_CONFIG=str(config_file(tmp_path)),
        MAILPIPE_DATABASE_URL=f"sqlite:///{tmp_path / 'run.db'}",
    )
    line = one_line_error(done, "run")
    assert "refused the login" in line and "--broker-url" in line


def test_quarantine_replay_without_config_says_how_to_give_one(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'records.db'}"
    assert mailpipe(tmp_path, "migrate", MAILPIPE_DATABASE_URL=db).returncode == 0
    done = mailpipe(tmp_path, "quarantine", "replay", "1", MAILPIPE_DATABASE_URL=db)
    assert "MAILPIPE_CONFIG is not set" in one_line_error(done, "quarantine replay")


def test_graphsim_on_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = mailpipe(tmp_path, "graphsim", "--port", str(port), "--state-dir", str(tmp_path))
    line = one_line_error(done, "graphsim")
    assert f"cannot listen on 127.0.0.1:{port}" in line and "--port" in line


def test_schema_into_a_folder_it_cannot_make_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    done = mailpipe(tmp_path, "schema", "--out", str(blocker / "docs"))
    assert f"cannot write into {blocker / 'docs'}" in one_line_error(done, "schema")


def test_schema_refuses_an_incompatible_change_within_a_version_in_one_line(
    tmp_path: Path,
) -> None:
    out = tmp_path / "docs"
    assert mailpipe(tmp_path, "schema", "--out", str(out)).returncode == 0
    committed = out / "schemas" / "processed_email.v1.json"
    promised = json.loads(committed.read_text())
    promised["properties"]["priority"] = {"type": "integer"}  # as if v1 had promised it
    committed.write_text(json.dumps(promised))
    line = one_line_error(mailpipe(tmp_path, "schema", "--out", str(out)), "schema")
    assert "processed_email.v1.json: $.priority: property removed" in line
    assert "new version" in line
    assert "priority" in committed.read_text(), "the committed schema stays as it was"


#: URLs no library can parse: a port that is not a number, an IPv6 bracket never closed.
BAD_BROKER_URLS = [
    f"amqp://u:{PASSWORD}@127.0.0.1:notaport//",
    f"amqp://u:{PASSWORD}@[::1/",
]
BAD_DATABASE_URLS = [
    f"postgresql+psycopg://u:{PASSWORD}@127.0.0.1:notaport/db",
    f"postgresql+psycopg://u:{PASSWORD}@[::1/db",
]


@pytest.mark.parametrize("url", BAD_BROKER_URLS)
@pytest.mark.parametrize(
    "command", [SEND, ["sender"], ["ticketer"], ["dead", "list"], ["dead", "retry", "abcdefgh"]]
)
def test_a_broker_url_that_cannot_be_parsed_is_one_line(
    command: list[str], url: str, tmp_path: Path
) -> None:
    env = {"MAILPIPE_CONFIG": str(config_file(tmp_path)), "MAILPIPE_AMQP_URL": url}
    done = mailpipe(tmp_path, *command, **env)
    name = "send" if command[0] == "send" else " ".join(command[:2])
    line = one_line_error(done, name)
    assert "the broker URL in MAILPIPE_AMQP_URL is not valid" in line and "port" in line


@pytest.mark.parametrize("url", BAD_BROKER_URLS)
def test_run_with_a_broker_url_that_cannot_be_parsed_names_the_option(
    url: str, tmp_path: Path
) -> None:
    done = mailpipe(
        tmp_path,
        "run",
        "--broker-url",
        url,
        MAILPIPE_CONFIG=str(config_file(tmp_path)),
        MAILPIPE_DATABASE_URL=f"sqlite:///{tmp_path / 'run.db'}",
    )
    assert "the broker URL in --broker-url is not valid" in one_line_error(done, "run")


def test_run_with_a_broker_url_of_another_scheme_names_the_option(tmp_path: Path) -> None:
    done = mailpipe(tmp_path, "run", "--broker-url", "http://x", MAILPIPE_CONFIG="/nonexistent")
    line = one_line_error(done, "run")
    assert "unsupported broker URL 'http://x'" in line and "set --broker-url to" in line
    assert "MAILPIPE_AMQP_URL" not in line


@pytest.mark.parametrize("url", BAD_DATABASE_URLS)
@pytest.mark.parametrize(
    "command", [["records", "list"], ["migrate"], ["run"], ["ticketer"], [*SEND, "--outbox"]]
)
def test_a_database_url_that_cannot_be_parsed_is_one_line(
    command: list[str], url: str, tmp_path: Path
) -> None:
    env = {"MAILPIPE_CONFIG": str(config_file(tmp_path)), "MAILPIPE_DATABASE_URL": url}
    done = mailpipe(tmp_path, *command, **env)
    name = "send" if command[0] == "send" else " ".join(command)
    line = one_line_error(done, name)
    assert "the database URL in MAILPIPE_DATABASE_URL is not valid" in line


def test_send_with_a_bad_namespace_names_the_variable(tmp_path: Path) -> None:
    done = mailpipe(tmp_path, *SEND, MAILPIPE_NAMESPACE="a b")
    assert one_line_error(done, "send").startswith("mailpipe send: MAILPIPE_NAMESPACE: ")


def test_demo_with_a_database_url_that_cannot_be_parsed_names_the_option(tmp_path: Path) -> None:
    url = BAD_DATABASE_URLS[0]
    done = mailpipe(tmp_path, "demo", "--database-url", url, "--state-dir", str(tmp_path / "s"))
    line = one_line_error(done, "demo")
    assert "the database URL in --database-url is not valid" in line
