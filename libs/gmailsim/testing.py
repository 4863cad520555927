"""Test support: run the simulator in the background and get what a client needs to use it.

with running_simulator(tmp_path, ["support@example.com"]) as sim:
    info = sim.key_info                      # the service account key file, as a dict
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

from libs.common.settings import MailpipeConfig
from libs.gmailsim.config import mailpipe_config
from libs.gmailsim.server import BackgroundServer
from libs.gmailsim.world import World


@dataclass(frozen=True)
class GmailSimHandle:
    #: ``https://127.0.0.1:PORT``; the Gmail API is under ``/gmail/v1``.
    root_url: str
    api_url: str
    ca_bundle: Path
    mailboxes: tuple[str, ...]
    #: The default service account's key file (delegated gmail.modify, gmail.send and the
    #: two settings scopes for every mailbox of the domain).
    key_info: dict[str, Any] = field(repr=False)
    world: World = field(repr=False, compare=False)

    def config(self, **mailbox_overrides: Any) -> MailpipeConfig:
        """``[google]`` pointing here and one google ``[[mailboxes]]`` per mailbox, with the
        default service account's key; keyword arguments override keys of every entry."""
        return mailpipe_config(
            self.root_url, self.ca_bundle, self.key_info, self.mailboxes, **mailbox_overrides
        )

    def ssl_context(self) -> ssl.SSLContext:
        """Trusts the simulator's CA (and only it)."""
        return ssl.create_default_context(cafile=str(self.ca_bundle))

    def control(self, timeout_s: float = 30.0) -> httpx.Client:
        """An httpx client for the control API (base URL is the server root)."""
        return httpx.Client(base_url=self.root_url, verify=self.ssl_context(), timeout=timeout_s)

    def api(self, token: str, timeout_s: float = 30.0) -> httpx.Client:
        """An httpx client for the Gmail API with a bearer token (base URL is the server root)."""
        return httpx.Client(
            base_url=self.root_url,
            verify=self.ssl_context(),
            timeout=timeout_s,
            headers={"Authorization": f"Bearer {token}"},
        )


@contextmanager
def running_simulator(state_dir: Path, mailboxes: list[str]) -> Iterator[GmailSimHandle]:
    """Start the simulator on 127.0.0.1 and a free port; stop it on exit."""
    server = BackgroundServer(state_dir, mailboxes)
    server.start()
    root = server.endpoint.root_url
    try:
        yield GmailSimHandle(
            root_url=root,
            api_url=f"{root}/gmail/v1",
            ca_bundle=server.certs.ca,
            mailboxes=tuple(m.lower() for m in mailboxes),
            key_info=server.world.default_key(),
            world=server.world,
        )
    finally:
        server.stop()
