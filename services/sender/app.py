"""Wiring of the sender: consumes OutboundEmail jobs, sends through Graph, publishes results.

Until the outbound issue lands, the sender starts, connects and declares its topology.
"""

from __future__ import annotations

from libs.common.service import bootstrap, run_consumers


def main() -> int:
    runtime = bootstrap("sender")
    return run_consumers(runtime, [])
