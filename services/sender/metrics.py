"""The sender's Prometheus metrics (served on ``/metrics`` by the health server)."""

from __future__ import annotations

from prometheus_client import Counter

JOBS = Counter(
    "mailpipe_jobs_total",
    "Outbound jobs finished, by result (sent, failed, rejected, duplicate: already sent)",
    ["status"],
)
GRAPH_SENDS = Counter(
    "mailpipe_graph_sends_total",
    "Messages handed to Graph, by path (mime, upload_session) and outcome (accepted, error)",
    ["path", "status"],
)
RATE_LIMIT_WAITS = Counter(
    "mailpipe_send_rate_limit_waits_total",
    "Sends held back to keep a mailbox within its messages-per-minute limit",
)
RATE_LIMIT_WAIT_SECONDS = Counter(
    "mailpipe_send_rate_limit_wait_seconds_total",
    "Seconds sends were held back by the per-mailbox rate limit",
)
