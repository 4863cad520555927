"""Where the services' mailboxes come from: ``MAILPIPE_CONFIG_SOURCE``.

``file`` (the default): the TOML file of ``MAILPIPE_CONFIG``, exactly as
:meth:`~libs.common.settings.Settings.service_config` reads it; no file, or one without
mailboxes, stops the start. ``database``: the ENABLED integrations of ``MAILPIPE_DATABASE_URL``
(:mod:`libs.common.db.integrations`), their secrets opened with the secrets key; ``[graph]``
and ``[google]`` still come from ``MAILPIPE_CONFIG`` when it is set. While there is no enabled
integration yet, :func:`service_config` waits for the first, saying so once a minute, instead
of exiting.

Changes made after the start are picked up by :func:`watcher` (a
:class:`~libs.common.config_watch.ConfigWatcher`) within one poll interval, without a restart
(docs/configuration.md, "Integrations in the database").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog

from libs.common.config_watch import ConfigWatcher
from libs.common.db.integrations import Integrations
from libs.common.errors import ConfigError
from libs.common.secret_box import SecretBox, load_box
from libs.common.settings import MailboxConfig, MailpipeConfig, Settings

log = structlog.get_logger(__name__)

WAITING = "no integration yet: add one in the console or with `mailpipe config import`"
#: How often the integrations are read while waiting, and how often the wait is said.
POLL_S = 5.0
SAY_EVERY_S = 60.0


def service_config(
    settings: Settings,
    *,
    wait: bool = True,
    stop: threading.Event | None = None,
    poll_s: float = POLL_S,
    say_every_s: float = SAY_EVERY_S,
) -> MailpipeConfig:
    """The configuration a service runs on, from the source ``settings`` names. Without
    ``wait`` (a one-off command), no integration yet is a :class:`ConfigError` at once."""
    if settings.config_source == "file":
        return settings.service_config()
    box = secrets_box(settings)
    file = _providers(settings)
    store = Integrations.open(settings.database_url.get_secret_value())
    try:

        def read() -> tuple[MailboxConfig, ...]:
            return store.to_mailbox_configs(box)

        if wait:
            mailboxes = _first_integrations(read, stop or threading.Event(), poll_s, say_every_s)
        elif not (mailboxes := read()):
            raise ConfigError(
                "no integration is enabled yet",
                hint="add one in the console or with `mailpipe config import`",
            )
    finally:
        store.close()
    return MailpipeConfig(graph=file.graph, google=file.google, mailboxes=mailboxes)


def watcher(
    settings: Settings, config: MailpipeConfig
) -> tuple[ConfigWatcher | None, Callable[[], None]]:
    """The watcher of a service started on ``config`` (None from a file: a restart reads it),
    and what closes its database pool. Its first check reads the integrations again (a
    change made during the start counts)."""
    if settings.config_source == "file":
        return None, lambda: None
    box = secrets_box(settings)
    store = Integrations.open(settings.database_url.get_secret_value())

    def load() -> MailpipeConfig:
        boxes = store.to_mailbox_configs(box)
        return MailpipeConfig(graph=config.graph, google=config.google, mailboxes=boxes)

    return ConfigWatcher(config, store.revision, load), store.close


def secrets_box(settings: Settings) -> SecretBox:
    return load_box(settings.secrets_key, settings.secrets_key_file)


def _providers(settings: Settings) -> MailpipeConfig:
    """``MAILPIPE_CONFIG`` when set, for its ``[graph]`` and ``[google]`` (its mailboxes are
    not used: said once)."""
    file = settings.load_config()
    if file.mailboxes:
        log.warning(
            "MAILPIPE_CONFIG_SOURCE=database: the mailboxes of MAILPIPE_CONFIG are not used",
            file=str(settings.config),
            hint="import them with `mailpipe config import`, then keep only [graph] in the file",
        )
    return file


def _first_integrations(
    read: Callable[[], tuple[MailboxConfig, ...]],
    stop: threading.Event,
    poll_s: float,
    say_every_s: float,
) -> tuple[MailboxConfig, ...]:
    """``read()`` once it returns a mailbox; the wait is logged every ``say_every_s``."""
    said_at: float | None = None
    while True:
        mailboxes = read()
        if mailboxes:
            return mailboxes
        now = time.monotonic()
        if said_at is None or now - said_at >= say_every_s:
            log.warning(WAITING)
            said_at = now
        if stop.wait(poll_s):
            raise ConfigError(
                "stopped while waiting for the first integration",
                hint="add one in the console or with `mailpipe config import`",
            )
