"""Wiring of the fetcher: polls mailboxes, publishes InboundEmail, removes processed mail.

:func:`wire` builds the fetcher on a :class:`Runtime`: the shared database for the delta
links (schema brought up to date first), the blob store, one Graph client per mailbox; it
returns the pollers, the processed consumer and the mailbox leases as loops, the per-mailbox
readiness checks and a cleanup. ``main()`` (the distributed service) and the embedded mode
both use it.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from libs.common.blobs import open_blobs
from libs.common.service import Runtime, Wiring, run_service

if TYPE_CHECKING:
    from libs.common.config_watch import ConfigChange
    from libs.common.settings import MailpipeConfig
    from services.fetcher.service import Fetcher


def wire(runtime: Runtime) -> Wiring:
    from services.fetcher.config import FetcherSettings
    from services.fetcher.service import Fetcher
    from services.fetcher.state import MailCursors

    settings = runtime.settings
    own = FetcherSettings()  # a bad value stops the start before anything opens
    # MailCursors.open brings the schema up to date (ensure_schema) before anything polls.
    state = MailCursors.open(settings.database_url.get_secret_value())
    blobs = open_blobs(settings)
    try:
        fetcher = Fetcher(
            runtime.config,
            runtime.broker,
            state,
            blobs,
            poll_threads=own.poll_threads,
            grows=runtime.watcher is not None,
        )
    except BaseException:
        blobs.close()
        state.close()
        raise

    if runtime.watcher is not None:  # integrations added, removed, changed: no restart
        runtime.watcher.subscribe(partial(_follow, runtime, fetcher))

    def close() -> None:
        fetcher.close()
        blobs.close()
        state.close()

    return Wiring(fetcher.loops(runtime.stop), fetcher.checks(), close)


def _follow(
    runtime: Runtime, fetcher: Fetcher, config: MailpipeConfig, change: ConfigChange
) -> None:
    """An integration change: the fetcher applies it; a new mailbox gets its readiness check."""
    fetcher.apply(config, change)
    if runtime.health is not None:
        for box in change.added:
            runtime.health.add_check(f"mailbox:{box.address}", fetcher.poll_check(box.address))


def main() -> int:
    return run_service("fetcher", wire)
