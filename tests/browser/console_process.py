"""``mailpipe web`` as a real process for the browser tests: a SQLite database of its own, plain
HTTP (``MAILPIPE_WEB_INSECURE_COOKIES=1``), accounts made with ``mailpipe admin create-user``."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.harness import REPO, free_port

START_TIMEOUT_S = 60.0
READY_LINE = "web console listening"

ADMIN = ("ada", "Ada Admin", "admin", "ada's long password 1")
AGENT = ("abe", "Abe Agent", "agent", "abe's long password 2")


@dataclass
class RunningConsole:
    """Where the console listens, and every line it wrote (to show when a test fails)."""

    base_url: str
    env: dict[str, str]
    output: list[str] = field(default_factory=list)

    def create_user(self, username: str, display_name: str, role: str, password: str) -> None:
        """``mailpipe admin create-user --password-stdin``, as an operator's script does."""
        args = ["admin", "create-user", username, "--role", role, "--display-name", display_name]
        done = subprocess.run(
            [sys.executable, "-m", "mailpipe", *args, "--password-stdin"],
            input=f"{password}\n",
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"create-user {username}: {done.stdout}{done.stderr}"


def _drain(stream: object, lines: list[str], ready: queue.Queue[str]) -> None:
    for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
        line = raw.decode("utf-8", "replace").rstrip()
        lines.append(line)
        if READY_LINE in line:
            ready.put(line)
    ready.put("")  # the process closed its output: it has stopped


def _wait_ready(process: subprocess.Popen[bytes], ready: queue.Queue[str], out: list[str]) -> None:
    try:
        line = ready.get(timeout=START_TIMEOUT_S)
    except queue.Empty:
        line = ""
    if not line or process.poll() is not None:
        raise AssertionError("mailpipe web did not start:\n" + "\n".join(out))


@contextmanager
def mailpipe_web(workdir: Path, **extra_env: str) -> Iterator[RunningConsole]:
    """The console on a free port until the block ends (then SIGTERM, as an operator stops it);
    ``extra_env`` adds to (or overrides) its environment."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "MAILPIPE_DATABASE_URL": f"sqlite:///{workdir / 'console.db'}",
        "MAILPIPE_WEB_INSECURE_COOKIES": "1",
        **extra_env,
    }
    command = [sys.executable, "-m", "mailpipe", "web", "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    console = RunningConsole(f"http://127.0.0.1:{port}", env)
    ready: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_drain, args=(process.stdout, console.output, ready))
    reader.start()
    try:
        _wait_ready(process, ready, console.output)
        yield console
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=30)
