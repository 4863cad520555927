"""``mailpipe web`` as a real process: it migrates its database, answers /healthz, /readyz and
/login, and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from services.web.admin import create_account
from services.web.app import open_accounts
from services.web.config import WebSettings
from services.web.security import LOGIN_CSRF_COOKIE
from tests.e2e.harness import REPO, free_port

START_TIMEOUT_S = 30.0


def _wait_healthy(base: str, process: subprocess.Popen[bytes]) -> httpx.Response:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, "mailpipe web exited at start"
        try:
            return httpx.get(f"{base}/healthz", timeout=1.0)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"mailpipe web did not answer within {START_TIMEOUT_S}s")


@contextmanager
def mailpipe_web(tmp_path: Path, **settings: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``mailpipe web`` on a free port and a SQLite database of its own (and ``settings`` as
    environment variables); stopped by SIGTERM."""
    port = free_port()
    env = {
        **settings,
        **os.environ,
        "PYTHONPATH": str(REPO),
        "MAILPIPE_DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}",
        "MAILPIPE_WEB_INSECURE_COOKIES": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "mailpipe", "web", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_mailpipe_web_serves_the_console(tmp_path: Path) -> None:
    with mailpipe_web(tmp_path) as (base, process):
        assert _wait_healthy(base, process).json() == {"status": "ok"}
        assert httpx.get(f"{base}/readyz").json()["ready"] is True
        login = httpx.get(f"{base}/login")
        assert login.status_code == 200
        assert '<form method="post" action="/login"' in login.text
        assert "Secure" not in login.headers["set-cookie"]
        assert login.headers["x-frame-options"] == "DENY"
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output.decode()
    assert b"web console listening" in output


def _attempt(client: httpx.Client, username: str, password: str, address: str) -> int:
    token = client.get("/login").cookies[LOGIN_CSRF_COOKIE]
    form = {"username": username, "password": password, "csrf_token": token, "next": "/"}
    answer = client.post("/login", data=form, headers={"X-Forwarded-For": address})
    return answer.status_code


def test_behind_a_local_proxy_failures_count_by_the_forwarded_address(tmp_path: Path) -> None:
    with mailpipe_web(tmp_path) as (base, process):
        _wait_healthy(base, process)
        accounts = open_accounts(f"sqlite:///{tmp_path / 'console.db'}", WebSettings())
        create_account(accounts, "alice", "Alice", "admin", "alice password 1")
        accounts.store.close()
        with httpx.Client(base_url=base) as client:
            for n in range(20):
                assert _attempt(client, f"guess{n}", "wrong password!", "198.51.100.1") == 400
            assert _attempt(client, "alice", "alice password 1", "198.51.100.1") == 429
            assert _attempt(client, "alice", "alice password 1", "198.51.100.2") == 303


def test_an_untrusted_peers_forwarded_address_is_not_believed(tmp_path: Path) -> None:
    with mailpipe_web(tmp_path, MAILPIPE_WEB_FORWARDED_ALLOW_IPS="192.0.2.1") as (base, process):
        _wait_healthy(base, process)
        accounts = open_accounts(f"sqlite:///{tmp_path / 'console.db'}", WebSettings())
        create_account(accounts, "alice", "Alice", "admin", "alice password 1")
        accounts.store.close()
        with httpx.Client(base_url=base) as client:
            # A new made-up address each time: all count as 127.0.0.1, the real peer.
            for n in range(20):
                assert _attempt(client, f"guess{n}", "wrong password!", f"198.51.100.{n}") == 400
            assert _attempt(client, "alice", "alice password 1", "198.51.100.99") == 429


def test_a_taken_port_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "MAILPIPE_DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}",
        }
        done = subprocess.run(
            [sys.executable, "-m", "mailpipe", "web", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        f"mailpipe web: the web console cannot listen on http://127.0.0.1:{port}/ "
        "(pick another --port (MAILPIPE_WEB_PORT), or stop what uses it)"
    )
