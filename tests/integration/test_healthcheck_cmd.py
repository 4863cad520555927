"""``mailpipe healthcheck`` (the compose and Dockerfile probe) answers for a real service:
0 while it is alive or ready, 1 when it is not ready or its port is closed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.procs import free_port
from libs.common.broker import Broker, Names
from libs.common.health import HealthServer
from libs.graphsim.testing import SimHandle
from tests.config_helpers import write_sim_config

REPO = Path(__file__).resolve().parents[2]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPIPE_")}
    env.update(extra)
    return env


def healthcheck(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailpipe", "healthcheck", *args],
        cwd=REPO,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def clean_namespace(amqp_url: str, namespace: str) -> Iterator[str]:
    yield namespace
    Broker(amqp_url, Names(namespace)).delete()


def test_exit_codes_follow_a_real_service(
    amqp_url: str, clean_namespace: str, tmp_path: Path, sim: SimHandle
) -> None:
    port = free_port()
    assert healthcheck("--port", str(port)).returncode == 1  # nothing listens yet
    env = clean_env(
        MAILPIPE_AMQP_URL=amqp_url,
        MAILPIPE_NAMESPACE=clean_namespace,
        MAILPIPE_HEALTH_PORT=str(port),
        MAILPIPE_DATABASE_URL=f"sqlite:///{tmp_path / 'mailpipe.db'}",
        MAILPIPE_BLOB_DIR=str(tmp_path / "blobs"),
        MAILPIPE_CONFIG=str(write_sim_config(sim, tmp_path / "mailpipe.toml")),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailpipe", "fetcher"],
        cwd=tmp_path,
        env=env | {"PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The port comes from MAILPIPE_HEALTH_PORT, as in the containers.
        deadline = time.monotonic() + 60
        while (ready := healthcheck("--ready", MAILPIPE_HEALTH_PORT=str(port))).returncode != 0:
            assert ready.returncode == 1, ready.stderr
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, f"never ready: {ready.stderr}"
            time.sleep(0.3)
        assert ready.stdout.startswith("ok")
        alive = healthcheck(MAILPIPE_HEALTH_PORT=str(port))
        assert (alive.returncode, alive.stdout.strip()) == (0, "ok (200)")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    gone = healthcheck("--ready", "--port", str(port))
    assert gone.returncode == 1
    assert f"127.0.0.1:{port}/readyz" in gone.stderr


def test_alive_but_not_ready_names_the_failing_check() -> None:
    server = HealthServer(
        0,
        {"broker": lambda: (False, "broker unavailable: ConnectionRefusedError")},
        host="127.0.0.1",
    ).start()
    try:
        alive = healthcheck("--port", str(server.port))
        ready = healthcheck("--port", str(server.port), "--ready")
    finally:
        server.stop()
    assert alive.returncode == 0
    assert ready.returncode == 1
    assert "HTTP 503" in ready.stderr
    assert "broker: broker unavailable: ConnectionRefusedError" in ready.stderr


def test_without_a_port_it_says_how_to_give_one() -> None:
    result = healthcheck()
    assert result.returncode == 1
    assert "MAILPIPE_HEALTH_PORT" in result.stderr


def test_a_bad_port_setting_is_one_line_and_unhealthy() -> None:
    result = healthcheck(MAILPIPE_HEALTH_PORT="eighty")
    assert result.returncode == 1
    assert result.stderr.startswith("mailpipe healthcheck: MAILPIPE_HEALTH_PORT:")
    assert len(result.stderr.strip().splitlines()) == 1
