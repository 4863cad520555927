"""Running the simulator: ``serve`` (blocking, for ``mailpipe graphsim``) and
:class:`BackgroundServer` (a thread, for tests, the demo and the benchmark)."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from libs.graphsim.app import build_app
from libs.graphsim.certs import CertPaths, ensure_certs
from libs.graphsim.world import DEFAULT_CLIENT, DEFAULT_TENANT, World


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    ca: Path
    #: The name clients reach the simulator by when it is not ``host`` (in compose: the
    #: service name); it goes into the written config and the certificate.
    public_host: str | None = None

    @property
    def root_url(self) -> str:
        host = "localhost" if self.host in ("0.0.0.0", "::") else self.host
        return f"https://{self.public_host or host}:{self.port}"


def config_toml(endpoint: Endpoint, world: World, *, auto_acknowledge: bool = False) -> str:
    """A mailpipe config (``MAILPIPE_CONFIG``) whose mailboxes work against this simulator."""
    q = json.dumps  # TOML basic strings accept JSON string escapes
    lines = [
        "# Written by `mailpipe graphsim`: Graph and the token authority are the simulator.",
        "[graph]",
        f"base_url = {q(endpoint.root_url + '/v1.0')}",
        f"authority_host = {q(endpoint.root_url)}",
        f"ca_bundle = {q(str(endpoint.ca.resolve()))}",
    ]
    for address in world.initial_mailboxes:
        lines += [
            "",
            "[[mailboxes]]",
            f"address = {q(address)}",
            f"tenant_id = {q(DEFAULT_TENANT)}",
            f"client_id = {q(DEFAULT_CLIENT)}",
            f"client_secret = {q(world.default_secret)}",
        ]
        if auto_acknowledge:
            lines.append("auto_acknowledge = true")
    return "\n".join(lines) + "\n"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it small TLS records wait for delayed ACKs.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def _uvicorn(world: World, certs: CertPaths) -> uvicorn.Server:
    config = uvicorn.Config(
        build_app(world),
        ssl_certfile=str(certs.cert),
        ssl_keyfile=str(certs.key),
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
    )
    return uvicorn.Server(config)


def _write_config(path: Path, endpoint: Endpoint, world: World, auto_acknowledge: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = config_toml(endpoint, world, auto_acknowledge=auto_acknowledge)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)  # it holds the client secret


def serve(
    *,
    state_dir: Path,
    host: str,
    port: int,
    mailboxes: list[str],
    write_config: Path | None,
    public_host: str | None = None,
    auto_acknowledge: bool = False,
    allow_http_notifications: bool = False,
) -> None:
    """Run the simulator until interrupted."""
    certs = ensure_certs(state_dir, [public_host] if public_host else ())
    world = World(mailboxes, allow_http_notifications=allow_http_notifications)
    sock = _bind(host, port)
    endpoint = Endpoint(host, sock.getsockname()[1], certs.ca, public_host)
    if write_config is not None:
        _write_config(write_config, endpoint, world, auto_acknowledge)
    print(f"graphsim listening on {endpoint.root_url} (Graph {endpoint.root_url}/v1.0)", flush=True)
    print(f"CA bundle: {certs.ca}", flush=True)
    if write_config is not None:
        print(f"config written to {write_config}", flush=True)
    _uvicorn(world, certs).run(sockets=[sock])


class BackgroundServer:
    """The simulator in a daemon thread on a free port; ``stop()`` shuts it down."""

    def __init__(
        self,
        state_dir: Path,
        mailboxes: list[str],
        host: str = "127.0.0.1",
        *,
        allow_http_notifications: bool = False,
    ) -> None:
        self.certs = ensure_certs(state_dir)
        self.world = World(mailboxes, allow_http_notifications=allow_http_notifications)
        self._sock = _bind(host, 0)
        self.endpoint = Endpoint(host, self._sock.getsockname()[1], self.certs.ca)
        self._server = _uvicorn(self.world, self.certs)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            daemon=True,
            name=f"graphsim:{self.endpoint.port}",
        )

    def start(self, timeout_s: float = 20.0) -> None:
        self._thread.start()
        waited = threading.Event()
        while not self._server.started and self._thread.is_alive():
            waited.wait(0.02)
            timeout_s -= 0.02
            if timeout_s <= 0:
                raise RuntimeError("the Graph simulator did not start")
        if not self._server.started:
            raise RuntimeError("the Graph simulator stopped while starting")

    def stop(self) -> None:
        self._server.should_exit = True
        # Clients keep connections alive; a graceful stop would wait for them to hang up.
        self._server.force_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
        self.world.notifier.stop()
