"""Wiring of the ticketer: consumes InboundEmail, keeps records, publishes ProcessedEmail.

Until the inbound pipeline lands, the ticketer starts, connects and declares its topology.
"""

from __future__ import annotations

from libs.common.service import bootstrap, run_consumers


def main() -> int:
    runtime = bootstrap("ticketer")
    return run_consumers(runtime, [])
