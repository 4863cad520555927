"""Test support: run the simulator in the background and get what a client needs to use it.

with running_simulator(tmp_path, ["support@contoso.com"]) as sim:
    config = sim.config()          # a MailpipeConfig whose mailboxes work against it
    sim.control().post("/_sim/reset")
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from libs.common.settings import GraphConfig, MailboxConfig, MailpipeConfig
from libs.graphsim.server import BackgroundServer
from libs.graphsim.world import DEFAULT_CLIENT, DEFAULT_TENANT, World


@dataclass(frozen=True)
class SimHandle:
    base_url: str
    authority_host: str
    ca_bundle: Path
    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    control_url: str
    mailboxes: tuple[str, ...]
    #: The simulator's state, for assertions a control route does not cover (same process).
    world: World = field(repr=False, compare=False)

    def ssl_context(self) -> ssl.SSLContext:
        """Trusts the simulator's CA (and only it); immune to REQUESTS_CA_BUNDLE and friends."""
        return ssl.create_default_context(cafile=str(self.ca_bundle))

    def config(self, **mailbox_overrides: Any) -> MailpipeConfig:
        """``[graph]`` pointing here and one ``[[mailboxes]]`` per mailbox, with working
        credentials; keyword arguments override keys of every mailbox entry."""
        graph = GraphConfig(
            base_url=self.base_url, authority_host=self.authority_host, ca_bundle=self.ca_bundle
        )
        boxes = tuple(
            MailboxConfig.model_validate(
                {
                    "address": address,
                    "tenant_id": self.tenant_id,
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    **mailbox_overrides,
                }
            )
            for address in self.mailboxes
        )
        return MailpipeConfig(graph=graph, mailboxes=boxes)

    def notification_faults(self, **knobs: Any) -> dict[str, Any]:
        """Set notification fault knobs (``notify_drop_ratio=0.5, notify_seed=7`` …) through
        the control API; returns the whole fault set."""
        with self.control() as control:
            resp = control.post("/_sim/faults", json=knobs)
            resp.raise_for_status()
            return dict(resp.json())

    def lifecycle(self, subscription_id: str, event: str) -> bool:
        """Fire a lifecycle event; whether one was sent (only with a lifecycle URL)."""
        with self.control() as control:
            resp = control.post(
                f"/_sim/subscriptions/{subscription_id}/lifecycle", json={"event": event}
            )
            resp.raise_for_status()
            return bool(resp.json()["sent"])

    def control(self, timeout_s: float = 30.0) -> httpx.Client:
        """An httpx client for the control API (base URL is the server root)."""
        return httpx.Client(
            base_url=self.authority_host, verify=self.ssl_context(), timeout=timeout_s
        )


@contextmanager
def running_simulator(
    state_dir: Path, mailboxes: list[str], *, allow_http_notifications: bool = False
) -> Iterator[SimHandle]:
    """Start the simulator on 127.0.0.1 and a free port; stop it on exit.
    ``allow_http_notifications`` lets subscriptions post to plain http URLs (test receivers)."""
    server = BackgroundServer(
        state_dir, mailboxes, allow_http_notifications=allow_http_notifications
    )
    server.start()
    root = server.endpoint.root_url
    try:
        yield SimHandle(
            base_url=f"{root}/v1.0",
            authority_host=root,
            ca_bundle=server.certs.ca,
            tenant_id=DEFAULT_TENANT,
            client_id=DEFAULT_CLIENT,
            client_secret=server.world.default_secret,
            control_url=f"{root}/_sim",
            mailboxes=tuple(m.lower() for m in mailboxes),
            world=server.world,
        )
    finally:
        server.stop()
