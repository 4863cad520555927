"""Every exchange, queue, retry tier and dead-letter queue, named in one place.

All names start with the namespace (``MAILPIPE_NAMESPACE``, default ``mailpipe``) so that
several deployments or test runs share one broker without touching each other.

Routing keys:

* ``<ns>.inbound``   — ``email.<mailbox>`` (InboundEmail, fetcher → ticketer)
* ``<ns>.processed`` — ``processed.<mailbox>`` (ProcessedEmail, ticketer → fetcher)
* ``<ns>.outbound``  — ``outbound.<mailbox>`` (OutboundEmail, anyone → sender)
* ``<ns>.events``    — ``outbound.<status>`` (OutboundResult) and ``record.<created|updated>``
  (RecordEvent); nothing of ours has to listen here, so publishing to it is not ``mandatory``.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Delayed-retry tiers in seconds: a retryable failure waits in tier N, then goes back to
#: the work queue. Exponential backoff; the budget is len(RETRY_DELAYS_S) retries.
RETRY_DELAYS_S: tuple[int, ...] = (1, 5, 30, 120, 600)

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

    @property
    def dead(self) -> str:
        return f"{self.name}.dead"

    def retry(self, tier: int) -> str:
        """Name of retry tier ``tier`` (0-based); its delay is RETRY_DELAYS_S[tier]."""
        return f"{self.name}.retry.{RETRY_DELAYS_S[tier]}s"

    @property
    def retries(self) -> tuple[str, ...]:
        return tuple(self.retry(i) for i in range(len(RETRY_DELAYS_S)))


@dataclass(frozen=True)
class Names:
    """The topology of one namespace."""

    namespace: str = "mailpipe"

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
        return WorkQueue(f"{self.namespace}.ticketer", self.inbound, "email.#")

    @property
    def fetcher_processed(self) -> WorkQueue:
        return WorkQueue(f"{self.namespace}.fetcher.processed", self.processed, "processed.#")

    @property
    def sender(self) -> WorkQueue:
        return WorkQueue(f"{self.namespace}.sender", self.outbound, "outbound.#")

    @property
    def ticketer_results(self) -> WorkQueue:
        """Sent results the ticketer adds to records (issue: outbound threading)."""
        return WorkQueue(f"{self.namespace}.ticketer.results", self.events, "outbound.sent")

    @property
    def work_queues(self) -> tuple[WorkQueue, ...]:
        return (self.ticketer, self.fetcher_processed, self.sender, self.ticketer_results)


def routing_key(kind: str, value: str) -> str:
    """Routing key for a message: ``email.<mailbox>``, ``outbound.sent`` …

    Dots in an address would split topic words; they are kept, since bindings use ``#``.
    """
    return f"{kind}.{value.lower()}"
