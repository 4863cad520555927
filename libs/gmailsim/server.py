"""Running the simulator: ``serve`` (blocking, for ``mailpipe gmailsim``) and
:class:`BackgroundServer` (a thread, for tests). The CA and server certificate are the Graph
simulator's (:mod:`libs.graphsim.certs`), kept in the state directory."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from libs.gmailsim.app import build_app
from libs.gmailsim.config import config_toml
from libs.gmailsim.world import World
from libs.graphsim.certs import CertPaths, ensure_certs


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    ca: Path
    #: The name clients reach the simulator by when it is not ``host`` (in compose: the
    #: service name); it goes into the key file's token_uri and the certificate.
    public_host: str | None = None

    @property
    def root_url(self) -> str:
        host = "localhost" if self.host in ("0.0.0.0", "::") else self.host
        return f"https://{self.public_host or host}:{self.port}"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
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


def write_key(path: Path, world: World) -> None:
    """The default service account's key file, as the Cloud console downloads it (0600: it
    holds the private key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(world.default_key(), indent=2) + "\n", encoding="utf-8")
    path.chmod(0o600)


def serve(
    *,
    state_dir: Path,
    host: str,
    port: int,
    mailboxes: list[str],
    write_key_file: Path | None,
    public_host: str | None = None,
    write_config: Path | None = None,
) -> None:
    """Run the simulator until interrupted."""
    certs = ensure_certs(state_dir, [public_host] if public_host else ())
    world = World(mailboxes)
    sock = _bind(host, port)
    endpoint = Endpoint(host, sock.getsockname()[1], certs.ca, public_host)
    world.root_url = endpoint.root_url
    root = endpoint.root_url
    print(f"gmailsim listening on {root} (Gmail API {root}/gmail/v1)", flush=True)
    print(f"CA bundle: {certs.ca}", flush=True)
    if write_config is not None and write_key_file is None:
        write_key_file = write_config.with_name(write_config.stem + "-key.json")
    if write_key_file is not None:
        write_key(write_key_file, world)
        print(f"service account key written to {write_key_file}", flush=True)
    if write_config is not None:
        assert write_key_file is not None
        write_config.parent.mkdir(parents=True, exist_ok=True)
        write_config.write_text(config_toml(root, certs.ca, write_key_file, mailboxes))
        print(f"config written to {write_config}", flush=True)
    _uvicorn(world, certs).run(sockets=[sock])


class BackgroundServer:
    """The simulator in a daemon thread on a free port; ``stop()`` shuts it down."""

    def __init__(self, state_dir: Path, mailboxes: list[str], host: str = "127.0.0.1") -> None:
        self.certs = ensure_certs(state_dir)
        self.world = World(mailboxes)
        self._sock = _bind(host, 0)
        self.endpoint = Endpoint(host, self._sock.getsockname()[1], self.certs.ca)
        self.world.root_url = self.endpoint.root_url
        self._server = _uvicorn(self.world, self.certs)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            daemon=True,
            name=f"gmailsim:{self.endpoint.port}",
        )

    def start(self, timeout_s: float = 20.0) -> None:
        self._thread.start()
        waited = threading.Event()
        while not self._server.started and self._thread.is_alive():
            waited.wait(0.02)
            timeout_s -= 0.02
            if timeout_s <= 0:
                raise RuntimeError("the Gmail simulator did not start")
        if not self._server.started:
            raise RuntimeError("the Gmail simulator stopped while starting")

    def stop(self) -> None:
        self._server.should_exit = True
        # Clients keep connections alive; a graceful stop would wait for them to hang up.
        self._server.force_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
