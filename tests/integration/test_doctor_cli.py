"""``mailpipe doctor`` as a separate process: exit codes, ``--json``, no secret in output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from libs.graphsim.testing import SimHandle

BOX = "support@contoso.com"


def write_config(sim: SimHandle, path: Path, secret: str, *, extra: str = "") -> Path:
    q = json.dumps  # TOML basic strings accept JSON string escapes
    secret_file = path.parent / "secret.txt"
    secret_file.write_text(secret + "\n")
    path.write_text(
        "[graph]\n"
        f"base_url = {q(sim.base_url)}\n"
        f"authority_host = {q(sim.authority_host)}\n"
        f"ca_bundle = {q(str(sim.ca_bundle))}\n"
        "\n[[mailboxes]]\n"
        f"address = {q(BOX)}\n"
        f"tenant_id = {q(sim.tenant_id)}\n"
        f"client_id = {q(sim.client_id)}\n"
        f"client_secret_file = {q(str(secret_file))}\n" + extra
    )
    return path


def mailpipe(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MAILPIPE_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "mailpipe", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_all_green_exits_0_and_never_prints_the_secret(sim: SimHandle, tmp_path: Path) -> None:
    config = write_config(sim, tmp_path / "mailpipe.toml", sim.client_secret)
    done = mailpipe("doctor", "--config", str(config))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✓ token:" in done.stdout
    assert "✓ quarantine folder:" in done.stdout
    assert "✗" not in done.stdout
    assert sim.client_secret not in done.stdout + done.stderr


def test_json_lists_every_step_and_exits_1_on_a_wrong_secret(
    sim: SimHandle, tmp_path: Path
) -> None:
    wrong = "not-the-secret-" + os.urandom(8).hex()
    config = write_config(sim, tmp_path / "mailpipe.toml", wrong)
    done = mailpipe("doctor", "--config", str(config), "--mailbox", BOX, "--json")
    assert done.returncode == 1, done.stderr
    rows = json.loads(done.stdout)
    assert all(set(row) == {"mailbox", "step", "ok", "detail", "fix"} for row in rows)
    assert rows[0] == rows[0] | {"mailbox": None, "step": "config", "ok": True}
    by_step = {row["step"]: row for row in rows[1:]}
    assert {row["mailbox"] for row in rows[1:]} == {BOX}
    assert by_step["token"]["ok"] is False
    assert "AADSTS7000215" in by_step["token"]["detail"]
    assert "Secret ID" in by_step["token"]["fix"]
    assert by_step["mailbox"] == {
        "mailbox": BOX,
        "step": "mailbox",
        "ok": None,
        "detail": "skipped: needs token",
        "fix": "",
    }
    assert wrong not in done.stdout + done.stderr
    assert sim.client_secret not in done.stdout + done.stderr


def test_a_config_error_is_one_line_and_exit_2(sim: SimHandle, tmp_path: Path) -> None:
    config = write_config(sim, tmp_path / "mailpipe.toml", "s3cret-value", extra="poll = 1\n")
    done = mailpipe("doctor", "--config", str(config))
    assert done.returncode == 2
    assert "✗ config:" in done.stdout
    assert "mailboxes[0].poll" in done.stdout
    assert "s3cret-value" not in done.stdout + done.stderr
    as_json = json.loads(mailpipe("doctor", "--config", str(config), "--json").stdout)
    assert [(r["step"], r["ok"]) for r in as_json] == [("config", False)]


def test_an_unknown_mailbox_is_a_config_error(sim: SimHandle, tmp_path: Path) -> None:
    config = write_config(sim, tmp_path / "mailpipe.toml", sim.client_secret)
    done = mailpipe("doctor", "--config", str(config), "--mailbox", "nobody@contoso.com")
    assert done.returncode == 2
    assert "nobody@contoso.com is not configured" in done.stderr
