"""Every exchange, queue, retry tier and dead-letter queue, named in one place.

All names start with the namespace (``MAILPIPE_NAMESPACE``, default ``mailpipe``) so that
several deployments or test runs share one broker without touching each other.

Which contract goes to which exchange with which routing key, and whether that is
``mandatory``: the routing table in :mod:`libs.common.broker.routes`. The work queues below
bind to those keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

#: Delayed-retry tiers in seconds: a retryable failure waits in tier N, then goes back to
#: the work queue. Exponential backoff; the budget is len(RETRY_DELAYS_S) retries.
RETRY_DELAYS_S: tuple[float, ...] = (1, 5, 30, 120, 600)

#: Deliveries of one message a work queue allows before the broker dead-letters it
#: (guards against a message that crashes its consumer process every time).
DELIVERY_LIMIT = 20

EXCHANGES = ("inbound", "processed", "outbound", "events")


@dataclass(frozen=True)
class WorkQueue:
    """A work queue with its dead-letter queue and retry tiers."""

    name: str
    exchange: str
    binding_key: str
    #: Delay of each retry tier; the tier's queue name carries it, so changing the delays
    #: declares new tier queues instead of clashing with the arguments of the old ones.
    retry_delays_s: tuple[float, ...] = RETRY_DELAYS_S

    @property
    def dead(self) -> str:
        return f"{self.name}.dead"

    def retry(self, tier: int) -> str:
        """Name of retry tier ``tier`` (0-based); its delay is ``retry_delays_s[tier]``."""
        return f"{self.name}.retry.{_seconds(self.retry_delays_s[tier])}s"

    @property
    def retries(self) -> tuple[str, ...]:
        return tuple(self.retry(i) for i in range(len(self.retry_delays_s)))


@dataclass(frozen=True)
class Names:
    """The topology of one namespace."""

    namespace: str = "mailpipe"
    #: Retry tier delays of every work queue (tests use short ones).
    retry_delays_s: tuple[float, ...] = RETRY_DELAYS_S

    def __post_init__(self) -> None:
        if not self.retry_delays_s or any(d <= 0 for d in self.retry_delays_s):
            raise ValueError("retry_delays_s needs at least one positive delay")

    def exchange(self, kind: str) -> str:
        if kind not in EXCHANGES:
            raise ValueError(f"unknown exchange kind {kind!r}")
        return f"{self.namespace}.{kind}"

    @property
    def inbound(self) -> str:
        return self.exchange("inbound")

    @property
    def processed(self) -> str:
        return self.exchange("processed")

    @property
    def outbound(self) -> str:
        return self.exchange("outbound")

    @property
    def events(self) -> str:
        return self.exchange("events")

    @property
    def ticketer(self) -> WorkQueue:
        return self._work_queue(f"{self.namespace}.ticketer", self.inbound, "email.#")

    @property
    def fetcher_processed(self) -> WorkQueue:
        return self._work_queue(
            f"{self.namespace}.fetcher.processed", self.processed, "processed.#"
        )

    def fetcher_lease(self, mailbox: str) -> str:
        """The lease queue of one mailbox: its active consumer is the fetcher that polls it
        (:mod:`libs.common.broker.lease`). Not a work queue: no retries, no dead letters."""
        return f"{self.namespace}.fetcher.lease.{mailbox.lower()}"

    @property
    def sender(self) -> WorkQueue:
        return self._work_queue(f"{self.namespace}.sender", self.outbound, "outbound.#")

    @property
    def ticketer_quarantine(self) -> WorkQueue:
        """Mail the fetcher quarantined itself, listed by the ticketer beside its own."""
        return self._work_queue(
            f"{self.namespace}.ticketer.quarantine", self.inbound, "quarantined.#"
        )

    #: Binding of every OutboundResult on the events exchange (``outbound.<status>``): the
    #: ticketer's results queue and ``mailpipe send --wait``'s own queue both use it.
    results_binding: ClassVar[str] = "outbound.*"

    @property
    def ticketer_results(self) -> WorkQueue:
        """Every OutboundResult: any answer ends the publishing of the ticketer's outbox job;
        a sent one is also added to its record (outbound threading)."""
        name = f"{self.namespace}.ticketer.results"
        return self._work_queue(name, self.events, self.results_binding)

    #: Binding of every MailboxChanged hint on the events exchange (``changed.<mailbox>``).
    hints_binding: ClassVar[str] = "changed.#"

    def fetcher_hints(self, instance: str) -> str:
        """One fetcher process's own queue of MailboxChanged hints (exclusive, auto-delete):
        every fetcher hears every hint and acts on the mailboxes it polls. Not a work queue:
        a hint lost with its process costs at most one safety poll (docs/push.md)."""
        return f"{self.namespace}.fetcher.hints.{instance}"

    def _work_queue(self, name: str, exchange: str, binding_key: str) -> WorkQueue:
        return WorkQueue(name, exchange, binding_key, self.retry_delays_s)

    @property
    def work_queues(self) -> tuple[WorkQueue, ...]:
        return (
            self.ticketer,
            self.fetcher_processed,
            self.sender,
            self.ticketer_results,
            self.ticketer_quarantine,
        )


def _seconds(delay: float) -> str:
    """``5`` for 5.0, ``0.2`` for 0.2: whole seconds keep the names of the default tiers."""
    return str(int(delay)) if float(delay).is_integer() else f"{delay:g}"


def routing_key(kind: str, value: str) -> str:
    """Routing key for a message: ``email.<mailbox>``, ``outbound.sent`` …

    Dots in an address would split topic words; they are kept, since bindings use ``#``.
    """
    return f"{kind}.{value.lower()}"
