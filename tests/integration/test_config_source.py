"""``MAILPIPE_CONFIG_SOURCE``: ``file`` is the mailbox file as before (no file: the start
stops); ``database`` builds the configuration from the enabled integrations and, while there is
none, waits for the first, saying so, instead of exiting."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import structlog
from pydantic import SecretStr
from typer.testing import CliRunner

from libs.common.config_source import WAITING, service_config
from libs.common.db.integrations import Integrations
from libs.common.errors import ConfigError
from libs.common.integration_rules import IntegrationFields
from libs.common.secret_box import SecretBox, SecretsKeyError, new_key
from libs.common.settings import MailpipeConfig, Settings
from libs.graphsim.testing import SimHandle, running_simulator
from mailpipe.cli import app
from tests.config_helpers import write_sim_config

REPO = Path(__file__).resolve().parents[2]
TENANT = "6f1c7a5e-3d2b-4c8a-9e1f-0a2b3c4d5e6f"
CLIENT = "0d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f60"
BOX = "support@contoso.com"


def _graph_only(path: Path, base_url: str) -> Path:
    path.write_text(f"[graph]\nbase_url = {json.dumps(base_url)}\n")
    return path


def test_the_file_source_is_as_before() -> None:
    with pytest.raises(ConfigError, match="MAILPIPE_CONFIG is not set"):
        service_config(Settings(config=None, config_source="file"))


def test_the_database_source_needs_the_key(database_url: str) -> None:
    settings = Settings(database_url=SecretStr(database_url), config_source="database")
    with pytest.raises(SecretsKeyError, match="MAILPIPE_SECRETS_KEY_FILE"):
        service_config(settings, wait=False)


def test_the_loader_waits_for_the_first_integration(database_url: str, tmp_path: Path) -> None:
    key = new_key()
    settings = Settings(
        database_url=SecretStr(database_url),
        config_source="database",
        secrets_key=SecretStr(key),
        config=_graph_only(tmp_path / "graph.toml", "https://graph.example.test/v1.0"),
    )
    with pytest.raises(ConfigError, match="no integration is enabled yet"):
        service_config(settings, wait=False)
    found: list[MailpipeConfig] = []
    with structlog.testing.capture_logs() as logs:
        waiter = threading.Thread(
            target=lambda: found.append(service_config(settings, poll_s=0.05, say_every_s=0.2))
        )
        waiter.start()
        time.sleep(0.6)
        assert waiter.is_alive() and not found
        repo = Integrations.open(database_url)
        try:
            fields = IntegrationFields(
                name="Support",
                address=BOX,
                tenant_id=TENANT,
                client_id=CLIENT,
                secret=SecretStr("v~1"),
            )
            repo.save(fields, SecretBox(key))
        finally:
            repo.close()
        waiter.join(timeout=30)
    assert not waiter.is_alive()
    [config] = found
    assert [b.address for b in config.mailboxes] == [BOX]
    assert config.graph.base_url == "https://graph.example.test/v1.0"
    said = [e for e in logs if e["event"] == WAITING]
    assert 2 <= len(said) <= 5  # every say_every_s, not every poll


def test_a_stop_ends_the_wait(database_url: str) -> None:
    settings = Settings(
        database_url=SecretStr(database_url),
        config_source="database",
        secrets_key=SecretStr(new_key()),
    )
    stop = threading.Event()
    stop.set()
    with pytest.raises(ConfigError, match="stopped while waiting"):
        service_config(settings, stop=stop, poll_s=0.05)


def _wait_for(proc: subprocess.Popen[bytes], log: Path, text: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        assert proc.poll() is None, f"exited before {text!r}:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"no {text!r}:\n{log.read_text()[-3000:]}"
        time.sleep(0.2)


def _sim_graph(sim: SimHandle, path: Path) -> Path:
    lines = [
        "[graph]",
        f"base_url = {json.dumps(sim.base_url)}",
        f"authority_host = {json.dumps(sim.authority_host)}",
        f"ca_bundle = {json.dumps(str(sim.ca_bundle))}",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_mailpipe_run_waits_then_starts_on_the_imported_integration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database_url = f"sqlite:///{tmp_path / 'mailpipe.db'}"
    key_file = tmp_path / "secrets.key"
    key_file.write_text(new_key())
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPIPE_")}
    with running_simulator(tmp_path / "graphsim", [BOX]) as sim:
        env.update(
            MAILPIPE_CONFIG_SOURCE="database",
            MAILPIPE_CONFIG=str(_sim_graph(sim, tmp_path / "graph.toml")),
            MAILPIPE_SECRETS_KEY_FILE=str(key_file),
            MAILPIPE_DATABASE_URL=database_url,
            MAILPIPE_BLOB_DIR=str(tmp_path / "blobs"),
            PYTHONUNBUFFERED="1",
        )
        log = tmp_path / "run.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "mailpipe", "run"],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_for(proc, log, WAITING)
            assert "mailpipe run: fetcher" not in log.read_text()
            monkeypatch.setenv("MAILPIPE_DATABASE_URL", database_url)
            monkeypatch.setenv("MAILPIPE_SECRETS_KEY_FILE", str(key_file))
            file = write_sim_config(sim, tmp_path / "import.toml")
            done = CliRunner().invoke(app, ["config", "import", str(file)])
            assert done.exit_code == 0, done.output
            _wait_for(proc, log, "mailpipe run: fetcher, ticketer and sender in one process")
            _wait_for(proc, log, "running")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    output = log.read_text(errors="replace")
    assert output.count(WAITING) == 1  # said once a minute, not once a poll
    assert sim.client_secret not in output


def test_the_doctor_checks_the_integrations_in_the_database(
    sim: SimHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "secrets.key"
    key_file.write_text(new_key())
    monkeypatch.setenv("MAILPIPE_DATABASE_URL", f"sqlite:///{tmp_path / 'mailpipe.db'}")
    monkeypatch.setenv("MAILPIPE_SECRETS_KEY_FILE", str(key_file))
    monkeypatch.setenv("MAILPIPE_CONFIG_SOURCE", "database")
    monkeypatch.setenv("MAILPIPE_CONFIG", str(_sim_graph(sim, tmp_path / "graph.toml")))
    empty = CliRunner().invoke(app, ["doctor"])
    assert empty.exit_code == 2 and "✗ config: no integration is enabled yet" in empty.stdout
    file = write_sim_config(sim, tmp_path / "import.toml", [BOX])
    assert CliRunner().invoke(app, ["config", "import", str(file)]).exit_code == 0
    done = CliRunner().invoke(app, ["doctor"])
    assert "✓ config: database: 1 enabled integration" in done.stdout
    assert "✓ token:" in done.stdout and "(client secret)" in done.stdout
    assert sim.client_secret not in done.stdout
