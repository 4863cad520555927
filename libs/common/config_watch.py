"""Integration changes picked up without a restart: :class:`ConfigWatcher`.

With ``MAILPIPE_CONFIG_SOURCE=database`` every service holds one watcher. Once per check
interval (the shortest poll interval, between :data:`MIN_CHECK_S` and :data:`MAX_CHECK_S`) it
asks the integrations table for its ``revision()``, one cheap query. Only when the revision
moved is the configuration read again; the two configurations are compared
(:func:`diff_configs`) and each subscriber is told the new configuration and what changed:
the fetcher adds, drops or rebuilds pollers, the sender and the ticketer judge the next
message by the new values. A database that does not answer keeps the current configuration;
the failure is logged once, and once more when the check works again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from libs.common.settings import MailboxConfig, MailpipeConfig

log = structlog.get_logger(__name__)

MIN_CHECK_S = 2.0
MAX_CHECK_S = 30.0


@dataclass(frozen=True)
class ConfigChange:
    """What moved between two configurations (``changed`` holds the new values)."""

    added: tuple[MailboxConfig, ...] = ()
    removed: tuple[MailboxConfig, ...] = ()
    changed: tuple[MailboxConfig, ...] = ()
    #: ``[graph]`` differs (every mailbox's client is built from it).
    graph: bool = False

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.graph)

    def summary(self) -> dict[str, list[str]]:
        """The addresses per kind, for the log (never a secret)."""
        return {
            "added": [b.address for b in self.added],
            "removed": [b.address for b in self.removed],
            "changed": [b.address for b in self.changed],
        }


def diff_configs(old: MailpipeConfig, new: MailpipeConfig) -> ConfigChange:
    """Mailboxes only in ``new`` (added), only in ``old`` (removed), in both with any field
    different, secrets included (changed, with the new values)."""
    before = {box.address: box for box in old.mailboxes}
    after = {box.address: box for box in new.mailboxes}
    return ConfigChange(
        added=tuple(box for address, box in after.items() if address not in before),
        removed=tuple(box for address, box in before.items() if address not in after),
        changed=tuple(
            box
            for address, box in after.items()
            if address in before and _differs(before[address], box)
        ),
        graph=old.graph != new.graph,
    )


def _differs(old: MailboxConfig, new: MailboxConfig) -> bool:
    # SecretStr compares by value; the dump shows it masked, so compare the models themselves.
    return old != new


def check_interval_s(config: MailpipeConfig) -> float:
    """The shortest poll interval, at least MIN_CHECK_S, at most MAX_CHECK_S."""
    shortest = min((box.poll_interval_s for box in config.mailboxes), default=MAX_CHECK_S)
    return min(MAX_CHECK_S, max(MIN_CHECK_S, shortest))


#: Told the new configuration and what changed; runs on the watcher's thread.
Subscriber = Callable[[MailpipeConfig, ConfigChange], None]


class ConfigWatcher:
    """Holds the current configuration; :meth:`check` picks up a change, :meth:`run` checks
    once per interval until ``stop``."""

    def __init__(
        self,
        config: MailpipeConfig,
        revision: Callable[[], int],
        load: Callable[[], MailpipeConfig],
        *,
        seen: int | None = None,
    ) -> None:
        self._config = config
        self._revision = revision
        self._load = load
        #: The revision ``config`` was read at; None: unknown, the first check reads it again.
        self._seen = seen
        self._subscribers: list[Subscriber] = []
        self._failing = False
        self._lock = threading.Lock()

    @property
    def current(self) -> MailpipeConfig:
        return self._config

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def interval_s(self) -> float:
        return check_interval_s(self._config)

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval_s()):
            self.check()

    def check(self) -> ConfigChange | None:
        """One ``revision()`` query; on a new revision the configuration is read again and
        the subscribers told. None when nothing changed or the database did not answer."""
        with self._lock:
            try:
                revision = self._revision()
                if revision == self._seen:
                    self._recovered()
                    return None
                new = self._load()
            except Exception as exc:  # an outage keeps the current configuration
                self._failed(exc)
                return None
            self._recovered()
            self._seen = revision
            change = diff_configs(self._config, new)
            self._config = new
        if change:
            log.info("integrations changed; applying", revision=revision, **change.summary())
            self._notify(new, change)
        return change

    def _notify(self, config: MailpipeConfig, change: ConfigChange) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(config, change)
            except Exception:  # one failing subscriber must not keep the others stale
                log.exception("applying the integration change failed")

    def _failed(self, exc: Exception) -> None:
        if not self._failing:
            log.warning(
                "integrations could not be checked; keeping the current configuration",
                error=type(exc).__name__,  # the message may name the database's address
                hint="check that the database of MAILPIPE_DATABASE_URL is up",
            )
        self._failing = True

    def _recovered(self) -> None:
        if self._failing:
            log.info("integrations can be checked again")
        self._failing = False
