"""Where the console finds the integrations it shows and tests (docs/console.md).

``MAILPIPE_CONFIG_SOURCE=database``: the integrations repository and the secrets key; the
pages create, edit and delete them. ``file``: the mailboxes of ``MAILPIPE_CONFIG``, shown
read-only. Either way "Test connection" reaches Graph where ``[graph]`` of ``MAILPIPE_CONFIG``
says (Microsoft's by default), as the services do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Literal

from libs.common.config_source import secrets_box
from libs.common.db.integrations import Integrations
from libs.common.errors import ConfigError
from libs.common.secret_box import SecretBox
from libs.common.settings import GraphConfig, MailboxConfig, Settings
from libs.common.setup_check.runner import graph_probe
from libs.common.setup_check.steps import ProbeFactory
from services.web.domain.replying import SendingPolicy


@dataclass
class Mailboxes:
    """The console's integrations: editable (``store`` and ``box``) or the file's, read-only."""

    source: Literal["file", "database"]
    graph: GraphConfig = field(default_factory=GraphConfig)
    store: Integrations | None = None
    box: SecretBox | None = None
    file_mailboxes: tuple[MailboxConfig, ...] = ()
    probe_factory: ProbeFactory = graph_probe

    @property
    def editable(self) -> bool:
        return self.source == "database" and self.store is not None and self.box is not None

    def opened(self, ident: int) -> MailboxConfig:
        """Integration ``ident`` as the services would run it, its secret opened."""
        if self.store is None or self.box is None:
            raise ConfigError(
                "the integrations are read-only here (MAILPIPE_CONFIG_SOURCE=file)",
                hint="run `mailpipe config import FILE`, then set MAILPIPE_CONFIG_SOURCE=database",
            )
        return self.store.mailbox_config_of(ident, self.box)

    def sending_policy(self, address: str) -> SendingPolicy:
        """What the integration of mailbox ``address`` allows a reply's From to be (a file's
        mailbox allows personal profiles when it lists ``send_as``, as its import does)."""
        if self.store is not None:
            found = self.store.find(address)
            if found is not None:
                fields = found.fields
                return SendingPolicy(address, fields.allow_personal_profiles, fields.send_as)
            return SendingPolicy(address)
        for box in self.file_mailboxes:
            if box.address.lower() == address.lower():
                return SendingPolicy(address, bool(box.send_as), box.send_as)
        return SendingPolicy(address)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def open_mailboxes(settings: Settings) -> Mailboxes:
    """The integrations the settings name: the database's (its secrets key loaded), or the
    file's."""
    config = settings.load_config()
    probes = partial(graph_probe, google=config.google)  # Google's API where [google] says
    if settings.config_source == "file":
        return Mailboxes(
            "file", config.graph, file_mailboxes=config.mailboxes, probe_factory=probes
        )
    box = secrets_box(settings)  # no key: refused before the database is opened
    store = Integrations.open(settings.database_url.get_secret_value())
    return Mailboxes("database", config.graph, store=store, box=box, probe_factory=probes)
