"""``mailpipe … --help`` names what to type (ADDRESS, FILE, SECONDS), never Python types."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from mailpipe.cli import app

#: Every command and sub-command a user can ask for help on.
COMMANDS = [
    [],
    ["send"],
    ["fetcher"],
    ["ticketer"],
    ["sender"],
    ["schema"],
    ["migrate"],
    ["graphsim"],
    ["gmailsim"],
    ["healthcheck"],
    ["records"],
    ["records", "list"],
    ["records", "show"],
    ["quarantine"],
    ["quarantine", "list"],
    ["quarantine", "replay"],
    ["doctor"],
    ["run"],
    ["demo"],
]
PYTHON_TYPE = re.compile(r"<(?:bool|str|int|float|path|list\[[^\]]*\]|Path|[a-z]+\[[^\]]*\])>")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "mailpipe")
def test_help_shows_no_python_types(command: list[str]) -> None:
    done = CliRunner().invoke(app, [*command, "--help"], terminal_width=100)
    assert done.exit_code == 0, done.output
    assert "Usage:" in done.output
    found = PYTHON_TYPE.findall(done.output)
    assert not found, f"{' '.join(command)} --help shows {found}:\n{done.output}"


def test_send_help_names_what_to_type() -> None:
    done = CliRunner().invoke(app, ["send", "--help"], terminal_width=100)
    assert "--to ADDRESS" in done.output and "--attach FILE" in done.output
    assert "--timeout SECONDS" in done.output
