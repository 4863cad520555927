"""Prometheus metrics shared by every service (each service adds its own next to its code).

Module-level, registered once in the default registry and served on ``/metrics`` by
:class:`~libs.common.health.HealthServer`. Label values are mailbox addresses and status
classes: bounded sets, so the series count stays small.
"""

from __future__ import annotations

from prometheus_client import Counter

GRAPH_REQUESTS = Counter(
    "mailpipe_graph_requests_total",
    "Microsoft Graph requests by mailbox and HTTP status (0 when no answer came)",
    ["mailbox", "status"],
)
GRAPH_THROTTLED = Counter(
    "mailpipe_graph_throttled_total",
    "Graph answers that asked us to slow down (429) by mailbox",
    ["mailbox"],
)
GRAPH_TOKEN_FAILURES = Counter(
    "mailpipe_graph_token_failures_total",
    "Failed token requests by mailbox and error code (a credential that stopped working)",
    ["mailbox", "code"],
)
DEAD_LETTERED = Counter(
    "mailpipe_dead_lettered_total",
    "Messages the consumer loop parked in a dead-letter queue, by work queue and reason "
    "(`mailpipe dead list` shows them)",
    ["queue", "reason"],
)
