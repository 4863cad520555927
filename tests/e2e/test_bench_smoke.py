"""The benchmark's contract: ``python -m bench --emails 100`` runs the whole pipeline as
separate processes and prints, as the last line of stdout, one JSON object with every figure
DESIGN.md names. Figures are reported, never asserted: only the counts are."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

FIELDS = {
    "emails",
    "emails_per_s",
    "graph_http_requests_per_email",
    "graph_token_requests",
    "raw_broker_roundtrip_per_s",
    "ratio_vs_raw_broker",
    "latency_p50_s",
    "latency_p95_s",
    "lost",
    "duplicates",
    "max_rss_mb",
    "database",
    "ticketers",
    "cpu_count",
}


def run_bench(amqp_url: str, *args: str) -> tuple[dict[str, Any], str]:
    """The run's JSON line and its stderr; the run must have passed (exit 0)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPIPE_")}
    env["MAILPIPE_AMQP_URL"] = amqp_url
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_bench_prints_the_contract_with_nothing_lost_or_doubled(amqp_url: str) -> None:
    report, stderr = run_bench(amqp_url, "--emails", "100", "--poll-interval", "1")

    assert not FIELDS - report.keys(), FIELDS - report.keys()
    assert report["emails"] == 100
    assert report["completed"] is True
    assert report["lost"] == 0
    assert report["duplicates"] == 0
    assert report["records"] == 100
    assert report["left_in_mailbox"] == 0
    assert report["database"] == "sqlite"
    assert report["ticketers"] == 1
    assert report["cpu_count"] == os.cpu_count()
    assert set(report["max_rss_mb"]) == {"fetcher", "ticketer", "sender", "graphsim"}
    assert all(mb > 0 for mb in report["max_rss_mb"].values())
    for key in ("emails_per_s", "raw_broker_roundtrip_per_s", "ratio_vs_raw_broker"):
        assert report[key] > 0, key
    assert 0 <= report["latency_p50_s"] <= report["latency_p95_s"]
    # Every Graph request the run made is counted: at least one delta read and one delete batch.
    routes = report["graph_requests_by_route"]
    assert routes.get("GET users/{u}/mailFolders/{f}/messages/delta", 0) >= 1
    assert routes.get("POST $batch", 0) >= 1
    assert report["graph_http_requests_per_email"] == sum(routes.values()) / 100
    assert "bench:" in stderr  # progress is on stderr, the JSON alone on stdout
    assert report["mode"] == "backlog"
    assert report["latency_from"] == "visible_to_delete"
    assert set(report["cpu_ms_per_email"]) == {"fetcher", "ticketer", "sender", "graphsim"}


def test_bench_on_gmail_counts_api_requests_and_quota_units(amqp_url: str) -> None:
    report, _ = run_bench(
        amqp_url, "--provider", "google", "--emails", "60", "--poll-interval", "1"
    )

    assert not FIELDS - report.keys(), FIELDS - report.keys()
    assert report["provider"] == "google" and report["push"] is False
    assert (report["completed"], report["lost"], report["duplicates"]) == (True, 0, 0)
    assert report["records"] == 60 and report["left_in_mailbox"] == 0
    assert set(report["max_rss_mb"]) == {"fetcher", "ticketer", "sender", "gmailsim"}
    # Reading and trashing each mail costs quota units (5 each in a batch): a run that read
    # nothing through the API, or counted nothing, cannot pass.
    assert report["gmail_api_requests"] >= 2
    assert report["gmail_quota_units_per_email"] >= 10
    assert report["gmail_api_requests_per_email"] == round(report["gmail_api_requests"] / 60, 4)


def test_bench_steady_arrival_with_outbound_jobs_and_a_fetcher_killed(amqp_url: str) -> None:
    """A steady arrival over many mailboxes, two fetchers (one killed half-way), two senders
    and outbound jobs: every mail one record, every job sent once, the latency measured from
    arrival to record, the killed fetcher's mailboxes taken over."""
    report, _ = run_bench(
        amqp_url,
        *("--steady", "10", "--duration", "10", "--mailboxes", "8", "--poll-interval", "1"),
        *("--fetchers", "2", "--kill-fetcher-after", "6", "--senders", "2", "--jobs", "16"),
    )

    assert report["mode"] == "steady"
    assert report["emails"] == 100
    assert report["completed"] is True
    assert (report["lost"], report["duplicates"], report["records"]) == (0, 0, 100)
    assert report["left_in_mailbox"] == 0
    assert (report["fetchers"], report["senders"]) == (2, 2)
    assert (report["jobs"], report["jobs_sent"], report["jobs_sent_twice"]) == (16, 16, 0)
    # 16 jobs over 8 mailboxes: two each, far below Exchange's 30 a minute.
    assert report["busiest_mailbox_60s"] == 2
    assert report["latency_from"] == "arrival_to_record"
    assert 0 <= report["latency_p50_s"] <= report["latency_p95_s"]
    assert report["delta_requests_per_mailbox_per_interval"] > 0
    # The two fetchers split the 8 mailboxes; the survivor took the killed one's over.
    assert 1 <= report["mailboxes_taken_over"] <= 8
    assert report["takeover_s"] >= 0
