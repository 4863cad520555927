"""The service processes of an end-to-end stack: starting ``python -m services.<service>``
under a name, stopping, ``kill -9``, restarting, waiting until ready, reading their logs.
``tests/e2e/harness.py``'s ``Stack`` gives them their environment."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bench.procs import STOP_TIMEOUT_S, free_port, terminate

REPO = Path(__file__).resolve().parents[2]


@dataclass
class ServiceProcess:
    """One running (or finished) service process."""

    name: str
    service: str
    health_port: int
    log_path: Path
    proc: subprocess.Popen[bytes]
    _log: IO[bytes] = field(repr=False)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def probe(self, path: str = "/readyz") -> tuple[int | None, str]:
        """HTTP status and body of a health route (``None`` when nothing answers)."""
        url = f"http://127.0.0.1:{self.health_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return int(resp.status), resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            return None, ""

    def metrics(self) -> str:
        return self.probe("/metrics")[1]

    def close_log(self) -> None:
        self._log.close()


class ProcessControl:
    """The processes of a stack by name; ``env`` says what each is started with."""

    processes: dict[str, ServiceProcess]
    log_dir: Path

    def env(self, **extra: str) -> dict[str, str]:
        raise NotImplementedError

    def start(self, service: str, *, name: str | None = None, **env: str) -> ServiceProcess:
        """Start ``python -m services.<service>`` as ``name`` (default: the service)."""
        name = name or service
        old = self.processes.get(name)
        if old is not None and old.alive:
            raise AssertionError(f"{name} is already running")
        port = free_port()
        log_path = self.log_dir / f"{name}.log"
        log = log_path.open("ab")
        log.write(f"--- start {name} ({service}) ---\n".encode())
        log.flush()
        proc = subprocess.Popen(
            [sys.executable, "-m", f"services.{service}"],
            cwd=REPO,
            env=self.env(MAILPIPE_HEALTH_PORT=str(port), **env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes[name] = ServiceProcess(name, service, port, log_path, proc, log)
        return self.processes[name]

    def stop(self, name: str, timeout_s: float = STOP_TIMEOUT_S) -> int:
        """SIGTERM and wait; the exit code (SIGKILL after ``timeout_s``, then -9)."""
        process = self.processes[name]
        code = terminate(process.proc, timeout_s)
        process.close_log()
        return code

    def kill(self, name: str) -> None:
        """``kill -9``: no chance to finish anything."""
        process = self.processes[name]
        if process.alive:
            process.proc.send_signal(signal.SIGKILL)
            process.proc.wait()
        process.close_log()

    def restart(self, name: str, **env: str) -> ServiceProcess:
        """Start ``name`` again (after stop or kill) with the same service."""
        process = self.processes[name]
        if process.alive:
            self.stop(name)
        return self.start(process.service, name=name, **env)

    def wait_ready(self, name: str, timeout_s: float = 60.0) -> None:
        process = self.processes[name]
        self.wait_until(
            lambda: process.probe()[0] == 200 or not process.alive,
            timeout_s=timeout_s,
            what=f"{name} ready",
        )
        if not process.alive:
            raise AssertionError(f"{name} exited ({process.proc.returncode}):\n{self.log(name)}")

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def log_events(self, name: str) -> list[dict[str, Any]]:
        """The JSON log lines of ``name`` (every start)."""
        out = []
        for line in self.log(name).splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
        return out

    def wait_until(
        self, predicate: Callable[[], bool], *, timeout_s: float = 120.0, what: str = "condition"
    ) -> None:
        """Poll ``predicate`` until it holds; fail with the services' log tails if it never does."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.1)
        if predicate():
            return
        tails = "\n".join(
            f"--- {name} ---\n" + "\n".join(self.log(name).splitlines()[-15:])
            for name in self.processes
        )
        raise AssertionError(f"timed out waiting for: {what}\n{tails}")

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)
