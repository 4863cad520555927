"""Sender processes for the end-to-end tests: several at once on one config, the config at
either simulator (a ``MailWorld``), and what the simulator says they sent."""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.worlds import MailWorld
from tests.graphsim_fixtures import SIM_MAILBOXES
from tests.integration.test_sender_support import MAILBOX, start_sender, stop_all

#: How long one call of the senders keeps retrying throttled or unavailable answers.
MAX_RETRY_S = 20


def write_config(world: MailWorld, path: Path, mailboxes: Iterable[str] = SIM_MAILBOXES) -> Path:
    """A TOML config for sender processes: the world's provider table at its simulator and
    every mailbox with working credentials (on Gmail the key file is written beside it)."""
    text = world.config_toml(mailboxes, {"max_retry_s": MAX_RETRY_S}, {}, path.parent)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def sent_by_job(world: MailWorld, mailbox: str = MAILBOX) -> Counter[str]:
    return Counter(entry["headers"]["X-Mailpipe-Job-Id"] for entry in world.sent(mailbox))


@contextmanager
def senders(env: dict[str, str], logs: Sequence[Path]) -> Iterator[list[subprocess.Popen[bytes]]]:
    """One sender process per log file; each is stopped (SIGTERM) when the block ends."""
    procs = [start_sender(env, log) for log in logs]
    try:
        yield procs
    finally:
        stop_all(procs)
