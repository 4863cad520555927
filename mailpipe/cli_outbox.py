"""``mailpipe send`` against ``mailpipe run``: the job goes into the database's outbox.

``run`` keeps its queues in its own memory, so no other process can publish to it. It shares
its database, though: a job written to the ``outbox`` table is published by the running
ticketer's relay, again until the sender answers, and the answer is stored on the same row,
where ``--wait`` reads it (docs/embedded.md "Sending jobs to `mailpipe run`").
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from libs.common.errors import ConfigError
from libs.common.redact import redact_url

if TYPE_CHECKING:
    from libs.common.contracts import OutboundEmail, OutboundResult
    from services.ticketer.store import RecordStore

#: How often ``--wait`` looks at the job's row.
POLL_S = 0.5


def wants_outbox(amqp_url: str, outbox: bool) -> bool:
    """``--outbox``, or a broker URL no other process can reach (``memory://``)."""
    return outbox or amqp_url.strip().lower().startswith("memory:")


def open_outbox(database_url: str) -> RecordStore:
    """The store of an existing, current mailpipe database; never creates one (a mistyped
    SQLite path would otherwise become a new, empty database nobody reads)."""
    from sqlalchemy.engine import make_url

    from libs.common.db import current_revision, head_revision
    from services.ticketer.store import RecordStore

    where = redact_url(database_url)
    url = make_url(database_url)
    path = url.database or ""
    local = url.get_backend_name() == "sqlite" and path not in ("", ":memory:")
    if local and not Path(path).is_file():
        raise ConfigError(
            f"no mailpipe database at {where}",
            hint="set MAILPIPE_DATABASE_URL to the database `mailpipe run` uses",
        )
    if current_revision(database_url) != head_revision():
        raise ConfigError(
            f"the database at {where} is not at this version's schema",
            hint="start `mailpipe run` (it migrates) or run `mailpipe migrate`, then send again",
        )
    return RecordStore.open(database_url, migrate=False)


def queue_in_outbox(
    database_url: str, job: OutboundEmail, *, wait: bool, timeout_s: float
) -> OutboundResult | None:
    """Write ``job`` into the outbox; with ``wait`` return the sender's answer (``None`` on
    timeout). A job id already in the outbox is not written again: its first answer counts."""
    store = open_outbox(database_url)
    try:
        store.queue_job(job.job_id, job.mailbox, job.to_json().decode())
        if not wait:
            return None
        return _wait_for_answer(store, job.job_id, timeout_s)
    finally:
        store.close()


def _wait_for_answer(store: RecordStore, job_id: str, timeout_s: float) -> OutboundResult | None:
    from libs.common.contracts import OutboundResult

    deadline = time.monotonic() + timeout_s
    while True:
        row = store.outbox_job(job_id)
        if row is not None and row.result_status is not None:
            if not row.result:
                raise ConfigError(
                    f"job {job_id} was given up without an answer: it could not be read",
                    hint="send it again with a new --job-id",
                )
            return OutboundResult.from_json(row.result)
        if time.monotonic() >= deadline:
            return None
        time.sleep(POLL_S)
