"""The ticketer's Prometheus metrics (``mailpipe_`` prefix), served on ``/metrics``.

Each ``TicketerMetrics`` registers on the registry it is given: the service uses the process
registry, tests give each ticketer its own so that several can live in one process.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class TicketerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        registry = registry if registry is not None else CollectorRegistry()
        self._register_inbound_counters(registry)
        self._register_ack_counters(registry)
        self._register_outbox_counters(registry)

    def _register_inbound_counters(self, registry: CollectorRegistry) -> None:
        """What became of inbound mail: a record, an appended message, ignored, quarantined."""
        self.records_created = Counter(
            "mailpipe_ticketer_records_created",
            "Records created from inbound mail",
            ["mailbox"],
            registry=registry,
        )
        self.messages_appended = Counter(
            "mailpipe_ticketer_messages_appended",
            "Inbound mail appended to an existing record, by kind (reply, note, bounce)",
            ["mailbox", "kind"],
            registry=registry,
        )
        self.ignored = Counter(
            "mailpipe_ticketer_mails_ignored",
            "Inbound mail that made no record, by reason class",
            ["mailbox", "reason"],
            registry=registry,
        )
        self.quarantined = Counter(
            "mailpipe_ticketer_mails_quarantined",
            "Inbound mail given up on and quarantined",
            ["mailbox"],
            registry=registry,
        )

    def _register_ack_counters(self, registry: CollectorRegistry) -> None:
        """Auto-acknowledgements: published, held back by the rate limit, or not sent at all."""
        self.acks = Counter(
            "mailpipe_ticketer_auto_acks_published",
            "Auto-acknowledgement jobs published (the broker confirmed them)",
            ["mailbox"],
            registry=registry,
        )
        self.acks_limited = Counter(
            "mailpipe_ticketer_auto_acks_rate_limited",
            "Auto-acknowledgements not sent because the recipient's hourly limit was reached",
            ["mailbox"],
            registry=registry,
        )
        self.acks_skipped = Counter(
            "mailpipe_ticketer_auto_acks_skipped",
            "Auto-acknowledgements not sent to the mail's From address, by reason (own_domain, "
            "lookalike, machine_sender, no_from, not_an_address)",
            ["mailbox", "reason"],
            registry=registry,
        )

    def _register_outbox_counters(self, registry: CollectorRegistry) -> None:
        """Outbound jobs: republished by the relay, answered by the sender, added to records."""
        self.outbox_published = Counter(
            "mailpipe_ticketer_outbox_republished",
            "Outbox jobs published again by the relay (no answer from the sender yet)",
            ["mailbox"],
            registry=registry,
        )
        self.outbox_confirmed = Counter(
            "mailpipe_ticketer_outbox_confirmed",
            "Outbox jobs the sender answered, by result status (sent, failed, rejected)",
            ["status"],
            registry=registry,
        )
        self.outbound_recorded = Counter(
            "mailpipe_ticketer_outbound_recorded",
            "Sent messages added to their records",
            ["mailbox"],
            registry=registry,
        )

    def count_outcome(
        self, mailbox: str, outcome: str, reason: str | None, change: str | None
    ) -> None:
        """One handled email: created, appended (by kind of change) or ignored (by reason)."""
        if outcome == "created":
            self.records_created.labels(mailbox).inc()
        elif outcome == "appended":
            self.messages_appended.labels(mailbox, change or "reply").inc()
        elif outcome == "ignored":
            # The reason's first word only: patterns and codes would make unbounded labels.
            self.ignored.labels(mailbox, (reason or "unknown").split(":", 1)[0]).inc()
