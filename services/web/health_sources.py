"""Where the health page's figures come from, besides the mailbox health rows: the
integrations of the current config source, and the dead-letter queues' counts
(docs/console.md, "Health").

Each source answers or says in one line why it cannot; the page shows that line in place of
the figure instead of failing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from libs.common.broker import Broker, Names
from libs.common.broker.dead_queue import DeadLetters
from libs.common.certificate_dates import not_after
from libs.common.db.integrations import Integrations
from libs.common.errors import MailpipeError
from libs.common.settings import MailboxConfig, Settings

#: How long dead-letter counts are reused (the page refreshes every 10 s per viewer).
DEAD_CACHE_S = 10.0
#: How long the console waits for the broker before it says it is unreachable.
BROKER_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class IntegrationView:
    """What the health page shows of one integration's configuration."""

    name: str
    address: str
    poll_interval_s: float
    #: The secret's expiry date or the certificate's notAfter, the earlier when both.
    expires_on: date | None
    #: ``secret`` or ``certificate``: which of the two expires.
    credential: str


@dataclass(frozen=True)
class Listing:
    integrations: tuple[IntegrationView, ...] = ()
    source: str = "file"
    #: Why the integrations could not be read (one line), else ``None``.
    problem: str | None = None


@dataclass(frozen=True)
class DeadCount:
    #: Messages per work queue (``None``: its dead queue is not declared).
    queues: dict[str, int | None]
    #: Why the broker could not be asked (one line), else ``None``.
    problem: str | None = None

    @property
    def total(self) -> int:
        return sum(n for n in self.queues.values() if n)


def earlier(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return min(known) if known else None


def list_integrations(settings: Settings, stored: Integrations) -> Listing:
    """The integrations the services poll: the ENABLED incoming ones of the database, or the
    mailboxes of the ``MAILPIPE_CONFIG`` file."""
    try:
        if settings.config_source == "database":
            return Listing(_stored(stored), "database")
        mailboxes = settings.service_config().mailboxes
    except MailpipeError as exc:
        return Listing(source=settings.config_source, problem=_line(exc))
    return Listing(tuple(_from_file(box) for box in mailboxes), "file")


def _stored(repository: Integrations) -> tuple[IntegrationView, ...]:
    found = []
    for stored in repository.list():
        f = stored.fields
        if not f.enabled or f.direction == "outgoing":
            continue
        cert = not_after(f.certificate_pem) if f.certificate_pem else None
        kind = f.credential_kind
        expires = earlier(f.secret_expires_on, cert)
        found.append(IntegrationView(f.name, f.address, f.poll_interval_s, expires, kind))
    return tuple(found)


def _from_file(box: MailboxConfig) -> IntegrationView:
    pem = box.certificate_pem
    if pem is None and box.certificate_file is not None:
        try:
            pem = box.certificate_file.read_text(encoding="utf-8")
        except OSError:
            pem = None
    expires = not_after(pem) if pem else None
    kind = "certificate" if pem or box.certificate_file else "secret"
    return IntegrationView(box.address, box.address, box.poll_interval_s, expires, kind)


def _line(exc: MailpipeError) -> str:
    return f"{exc.message} ({exc.hint})" if exc.hint else exc.message


class DeadLetterCounts:
    """The dead-letter queues' counts, asked of the broker at most every ``DEAD_CACHE_S``."""

    def __init__(
        self, ask: Callable[[], DeadCount], *, ticks: Callable[[], float] = time.monotonic
    ) -> None:
        self._ask = ask
        self._ticks = ticks
        self._lock = threading.Lock()
        self._kept: tuple[float, DeadCount] | None = None

    def __call__(self) -> DeadCount:
        with self._lock:
            now = self._ticks()
            if self._kept is None or now - self._kept[0] >= DEAD_CACHE_S:
                self._kept = (now, self._ask())
            return self._kept[1]


def ask_broker(settings: Settings) -> DeadCount:
    """Every work queue's dead-letter count; the broker's failure said in one line."""
    try:
        url = settings.amqp_url.get_secret_value()
        broker = Broker(url, Names(settings.namespace), connect_timeout_s=BROKER_TIMEOUT_S)
        with broker:
            letters = DeadLetters(broker)
            return DeadCount({q.name: letters.count(q) for q in letters.queues()})
    except MailpipeError as exc:
        return DeadCount({}, f"the broker cannot be asked: {_line(exc)}")
    except Exception as exc:  # the page says so instead of failing
        return DeadCount({}, f"the broker cannot be asked: {type(exc).__name__}")
