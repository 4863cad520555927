"""Running the simulator: ``serve`` (blocking, for ``mailpipe gmailsim``) and
:class:`BackgroundServer` (a thread, for tests). The CA and server certificate are the Graph
simulator's (:mod:`libs.graphsim.certs`), kept in the state directory."""

from __future__ import annotations

import json
from pathlib import Path

from libs.gmailsim.app import build_app
from libs.gmailsim.config import config_toml
from libs.gmailsim.world import World
from libs.graphsim.certs import ensure_certs
from libs.simkit.serving import ServerThread, https_server, listen


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
    sock, endpoint = listen(host, port, certs.ca, public_host)
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
    https_server(build_app(world), certs.cert, certs.key).run(sockets=[sock])


class BackgroundServer:
    """The simulator in a daemon thread on a free port; ``stop()`` shuts it down."""

    def __init__(self, state_dir: Path, mailboxes: list[str], host: str = "127.0.0.1") -> None:
        self.certs = ensure_certs(state_dir)
        self.world = World(mailboxes)
        sock, self.endpoint = listen(host, 0, self.certs.ca)
        self.world.root_url = self.endpoint.root_url
        server = https_server(build_app(self.world), self.certs.cert, self.certs.key)
        name = f"gmailsim:{self.endpoint.port}"
        self._thread = ServerThread(server, sock, name, "the Gmail simulator")

    def start(self, timeout_s: float = 20.0) -> None:
        self._thread.start(timeout_s)

    def stop(self) -> None:
        self._thread.stop()
