"""Where ``mailpipe demo`` keeps its files and how it configures the pipeline: a state
directory (temporary unless given), a log file that outlives the demo, a fresh SQLite file, and
the mailpipe TOML for the demo mailbox against the simulator."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from libs.common.settings import Settings
from libs.graphsim.testing import SimHandle
from mailpipe import demo_mail
from mailpipe.embedded import MEMORY_URL

POLL_INTERVAL_S = 1.0
#: How long one wave may take before the demo gives up and says so (a guard, not a target).
WAVE_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class DemoOptions:
    state_dir: Path | None = None
    follow: bool = False
    database_url: str | None = None
    blob_dir: Path | None = None
    wave_timeout_s: float = WAVE_TIMEOUT_S


def write_config(path: Path, sim: SimHandle, **mailbox: Any) -> Path:
    """The mailpipe TOML for the demo mailbox against ``sim`` (it holds a secret: 0600)."""
    q = json.dumps  # TOML basic strings accept JSON string escapes
    lines = [
        "# Written by `mailpipe demo`: Graph and the token authority are the simulator.",
        "[graph]",
        f"base_url = {q(sim.base_url)}",
        f"authority_host = {q(sim.authority_host)}",
        f"ca_bundle = {q(str(sim.ca_bundle))}",
        "",
        "[[mailboxes]]",
        f"address = {q(demo_mail.MAILBOX)}",
        f"tenant_id = {q(sim.tenant_id)}",
        f"client_id = {q(sim.client_id)}",
        f"client_secret = {q(sim.client_secret)}",
        *(f"{key} = {json.dumps(value)}" for key, value in mailbox.items()),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def demo_settings(options: DemoOptions, base: Path, sim: SimHandle) -> Settings:
    """The pipeline's settings: in-memory broker, the demo's database and blobs under
    ``base`` (unless given), the demo mailbox on ``sim``, no health server."""
    return Settings(
        amqp_url=MEMORY_URL,
        namespace="demo",
        database_url=options.database_url or f"sqlite:///{fresh_database(base)}",
        blob_dir=options.blob_dir or base / "blobs",
        config=write_config(
            base / "mailpipe.toml",
            sim,
            auto_acknowledge=True,
            # The demo is contoso's own helpdesk: its colleagues are answered too.
            auto_ack_own_domain=True,
            poll_interval_s=POLL_INTERVAL_S,
        ),
        health_port=None,
    )


@contextmanager
def state_dir(options: DemoOptions) -> Iterator[Path]:
    if options.state_dir is not None:
        options.state_dir.mkdir(parents=True, exist_ok=True)
        yield options.state_dir.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="mailpipe-demo-") as tmp:
        yield Path(tmp)


def pipeline_log_path(options: DemoOptions) -> Path:
    """Where the pipeline's log goes: the state directory, or else a file of its own in the
    temporary directory, which outlives the demo (the path printed must still be there when
    the demo says "see the log")."""
    if options.state_dir is not None:
        return options.state_dir.resolve() / "mailpipe.log"
    handle, name = tempfile.mkstemp(prefix="mailpipe-demo-", suffix=".log")
    os.close(handle)
    return Path(name)


def fresh_database(base: Path) -> Path:
    """The demo's own SQLite file, emptied: each run starts from record 1 (the simulator's
    mailbox is new each time too); it stays for inspection until the next run."""
    path = base / "mailpipe.db"
    for old in (path, base / "mailpipe.db-wal", base / "mailpipe.db-shm"):
        old.unlink(missing_ok=True)
    return path
