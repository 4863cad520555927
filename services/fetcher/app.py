"""Wiring of the fetcher: polls mailboxes, publishes InboundEmail, deletes processed mail.

Until the inbound pipeline lands, the fetcher starts, connects and declares its topology.
"""

from __future__ import annotations

from libs.common.service import bootstrap, run_consumers


def main() -> int:
    runtime = bootstrap("fetcher")
    return run_consumers(runtime, [])
