"""Wiring of the fetcher: polls mailboxes, publishes InboundEmail, removes processed mail.

Settings and config from the environment (``bootstrap``), the shared database for the delta
links (schema brought up to date at start), the blob store, one Graph client per mailbox; the
pollers and the processed consumer run as threads of ``run_consumers`` until SIGTERM.
"""

from __future__ import annotations

from libs.common.blobs import BlobStore
from libs.common.service import bootstrap, run_consumers


def main() -> int:
    from services.fetcher.service import Fetcher
    from services.fetcher.state import DeltaState

    runtime = bootstrap("fetcher")
    settings = runtime.settings
    # DeltaState.open brings the schema up to date (ensure_schema) before anything polls.
    state = DeltaState.open(settings.database_url.get_secret_value())
    fetcher = Fetcher(runtime.config, runtime.broker, state, BlobStore(settings.blob_dir))
    if runtime.health is not None:
        for name, check in fetcher.checks().items():
            runtime.health.add_check(name, check)
    try:
        return run_consumers(runtime, fetcher.loops(runtime.stop))
    finally:
        fetcher.close()
        state.close()
