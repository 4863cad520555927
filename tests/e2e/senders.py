"""Sender processes for the end-to-end tests: several at once on one config, the config for
the provider's simulator, and what the simulator says they sent."""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.e2e.worlds import MailWorld
from tests.integration.test_sender_support import MAILBOX, start_sender, stop_all


def write_config(world: MailWorld, path: Path) -> Path:
    """A TOML config for sender processes: ``MAILBOX`` on the world's simulator, retries
    bounded at 20 s (the Graph-only ``write_config`` of the sender's integration tests)."""
    path.write_text(world.config_toml([MAILBOX], {"max_retry_s": 20}, {}, path.parent))
    path.chmod(0o600)
    return path


def sent_list(world: MailWorld) -> list[dict[str, Any]]:
    return world.sent(MAILBOX)


def sent_by_job(world: MailWorld) -> Counter[str]:
    return Counter(entry["headers"]["X-Mailpipe-Job-Id"] for entry in world.sent(MAILBOX))


@contextmanager
def senders(env: dict[str, str], logs: Sequence[Path]) -> Iterator[list[subprocess.Popen[bytes]]]:
    """One sender process per log file; each is stopped (SIGTERM) when the block ends."""
    procs = [start_sender(env, log) for log in logs]
    try:
        yield procs
    finally:
        stop_all(procs)
