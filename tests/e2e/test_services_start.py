"""Each service starts as its own process, declares its topology, answers its probes, and
stops cleanly on SIGTERM; a bad configuration stops it at once with one clear line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.procs import free_port
from libs.common.broker import Broker, Names
from libs.graphsim.testing import SimHandle
from tests.config_helpers import write_sim_config

REPO = Path(__file__).resolve().parents[2]


def probe(port: int, path: str) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


@pytest.fixture
def clean_namespace(amqp_url: str, namespace: str) -> Iterator[str]:
    yield namespace
    Broker(amqp_url, Names(namespace)).delete()


def service_env(amqp_url: str, namespace: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPIPE_")}
    env.update(MAILPIPE_AMQP_URL=amqp_url, MAILPIPE_NAMESPACE=namespace, **extra)
    return env


@pytest.mark.parametrize("service", ["fetcher", "ticketer", "sender"])
def test_service_starts_declares_and_stops_on_sigterm(
    service: str, amqp_url: str, clean_namespace: str, sim: SimHandle, tmp_path: Path
) -> None:
    port = free_port()
    env = service_env(
        amqp_url,
        clean_namespace,
        MAILPIPE_HEALTH_PORT=str(port),
        MAILPIPE_CONFIG=str(write_sim_config(sim, tmp_path / "mailpipe.toml")),
        MAILPIPE_DATABASE_URL=f"sqlite:///{tmp_path / 'mailpipe.db'}",
        MAILPIPE_BLOB_DIR=str(tmp_path / "blobs"),
    )
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.Popen(
        [sys.executable, "-m", f"services.{service}"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while probe(port, "/readyz") != 200:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "service never became ready"
            time.sleep(0.3)
        assert probe(port, "/healthz") == 200
        broker = Broker(amqp_url, Names(clean_namespace))
        for queue in broker.names.work_queues:  # passive declares fail if a queue is missing
            assert broker.message_count(queue.name) == 0
            assert broker.message_count(queue.dead) == 0
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    messages = [e["event"] for e in events]
    assert "topology declared" in messages and messages[-1] == "stopped"
    assert all(e["service"] == service for e in events)
    assert "guest:guest" not in out + err


def test_bad_config_stops_the_service_with_one_line(
    tmp_path: Path, amqp_url: str, namespace: str
) -> None:
    config = tmp_path / "mailpipe.toml"
    config.write_text('[[mailboxes]]\naddress = "support@contoso.com"\nclient_secret = "hunter2"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "mailpipe", "ticketer"],
        cwd=REPO,
        env=service_env(amqp_url, namespace, MAILPIPE_CONFIG=str(config)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(config) in lines[0] and "mailboxes[0].tenant_id" in lines[0]
    assert "hunter2" not in proc.stderr + proc.stdout
