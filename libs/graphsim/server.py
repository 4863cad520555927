"""Running the simulator: ``serve`` (blocking, for ``mailpipe graphsim``) and
:class:`BackgroundServer` (a thread, for tests, the demo and the benchmark)."""

from __future__ import annotations

import json
from pathlib import Path

from libs.graphsim.app import build_app
from libs.graphsim.certs import ensure_certs
from libs.graphsim.world import DEFAULT_CLIENT, DEFAULT_TENANT, World
from libs.simkit.serving import Endpoint, ServerThread, https_server, listen


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
    sock, endpoint = listen(host, port, certs.ca, public_host)
    if write_config is not None:
        _write_config(write_config, endpoint, world, auto_acknowledge)
    print(f"graphsim listening on {endpoint.root_url} (Graph {endpoint.root_url}/v1.0)", flush=True)
    print(f"CA bundle: {certs.ca}", flush=True)
    if write_config is not None:
        print(f"config written to {write_config}", flush=True)
    https_server(build_app(world), certs.cert, certs.key).run(sockets=[sock])


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
        sock, self.endpoint = listen(host, 0, self.certs.ca)
        server = https_server(build_app(self.world), self.certs.cert, self.certs.key)
        name = f"graphsim:{self.endpoint.port}"
        self._thread = ServerThread(server, sock, name, "the Graph simulator")

    def start(self, timeout_s: float = 20.0) -> None:
        self._thread.start(timeout_s)

    def stop(self) -> None:
        self._thread.stop()
        self.world.notifier.stop()
