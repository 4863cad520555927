"""Serving a simulator over HTTPS: the listening socket, the server, the address clients reach
it at, and :class:`ServerThread` for running it beside the tests, the demo or the benchmark."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.applications import Starlette


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    ca: Path
    #: The name clients reach the simulator by when it is not ``host`` (in compose: the
    #: service name); it goes into the written config (or key file) and the certificate.
    public_host: str | None = None

    @property
    def root_url(self) -> str:
        host = "localhost" if self.host in ("0.0.0.0", "::") else self.host
        return f"https://{self.public_host or host}:{self.port}"


def listen(
    host: str, port: int, ca: Path, public_host: str | None = None
) -> tuple[socket.socket, Endpoint]:
    """A listening socket on ``host``:``port`` (0 picks a free port) and where it is reached;
    binding first tells the real port before the server runs."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it small TLS records wait for delayed ACKs.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock, Endpoint(host, sock.getsockname()[1], ca, public_host)


def https_server(app: Starlette, cert: Path, key: Path) -> uvicorn.Server:
    """``app`` over TLS with the simulator's certificate; quiet (no access log)."""
    config = uvicorn.Config(
        app,
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
    )
    return uvicorn.Server(config)


class ServerThread:
    """``server`` on ``sock`` in a daemon thread; ``what`` names the simulator in errors."""

    def __init__(self, server: uvicorn.Server, sock: socket.socket, name: str, what: str) -> None:
        self._server = server
        self._sock = sock
        self._what = what
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=name
        )

    def start(self, timeout_s: float = 20.0) -> None:
        """Start the thread and return once the server accepts connections."""
        self._thread.start()
        waited = threading.Event()
        while not self._server.started and self._thread.is_alive():
            waited.wait(0.02)
            timeout_s -= 0.02
            if timeout_s <= 0:
                raise RuntimeError(f"{self._what} did not start")
        if not self._server.started:
            raise RuntimeError(f"{self._what} stopped while starting")

    def stop(self) -> None:
        self._server.should_exit = True
        # Clients keep connections alive; a graceful stop would wait for them to hang up.
        self._server.force_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
