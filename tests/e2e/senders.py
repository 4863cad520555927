"""Sender processes for the end-to-end tests: several at once on one config, and what the
simulator says they sent."""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from libs.graphsim.testing import SimHandle
from tests.integration.test_sender_support import sent_list, start_sender, stop_all


def sent_by_job(sim: SimHandle) -> Counter[str]:
    return Counter(entry["headers"]["X-Mailpipe-Job-Id"] for entry in sent_list(sim))


@contextmanager
def senders(env: dict[str, str], logs: Sequence[Path]) -> Iterator[list[subprocess.Popen[bytes]]]:
    """One sender process per log file; each is stopped (SIGTERM) when the block ends."""
    procs = [start_sender(env, log) for log in logs]
    try:
        yield procs
    finally:
        stop_all(procs)
