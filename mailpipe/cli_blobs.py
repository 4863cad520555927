"""``mailpipe blobs gc [--every SECONDS]``: delete the blobs no record and no unanswered outbox
job names, once their grace period (``MAILPIPE_BLOB_GC_GRACE_S``) is over
(docs/deployment.md, "Blobs"). Works on the store ``MAILPIPE_BLOB_STORE`` names.

Exit codes: 0 done (or stopped); 2 the command cannot run (settings, database). With
``--every`` a round that fails for a moment (the database restarting) is logged and the next
round tries again. Heavy imports happen inside the command.
"""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING, Annotated

import typer

from mailpipe.cli_errors import error_exit

if TYPE_CHECKING:
    from libs.common.db.blob_gc import BlobCollector

blobs_app = typer.Typer(
    help="The blob store: attachments and raw MIME by sha256.", no_args_is_help=True
)

EveryOption = Annotated[
    float | None,
    typer.Option(
        "--every",
        metavar="SECONDS",
        min=1,
        help="Collect again every SECONDS until stopped (SIGTERM, Ctrl-C); default: once",
    ),
]


@blobs_app.command("gc")
def gc(every: EveryOption = None) -> None:
    """Delete blobs no record and no unanswered outbox job names, past the grace period."""
    with error_exit("blobs gc"):
        collector = _collector()
        if every is None:
            _report(collector)
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        while not stop.is_set():
            _round(collector)
            stop.wait(every)


def _collector() -> BlobCollector:
    from datetime import timedelta

    from libs.common.blobs import open_blobs
    from libs.common.db import ensure_schema, make_engine
    from libs.common.db.blob_gc import BlobCollector
    from libs.common.settings import Settings

    settings = Settings()
    url = settings.database_url.get_secret_value()
    ensure_schema(url)
    grace = timedelta(seconds=settings.blob_gc_grace_s)
    return BlobCollector(make_engine(url), open_blobs(settings), grace)


def _report(collector: BlobCollector) -> None:
    done = collector.collect()
    typer.echo(
        f"blobs gc: {done.examined} past the grace period, {done.deleted} deleted, "
        f"{done.kept} kept (named by a record or an unanswered outbox job)"
    )


def _round(collector: BlobCollector) -> None:
    """One round of ``--every``: a failure the next round may not meet is reported, not fatal."""
    from libs.common.errors import RetryableError
    from libs.common.startup import one_line

    try:
        _report(collector)
    except RetryableError as exc:
        typer.echo(f"mailpipe blobs gc: {one_line(exc)}; trying again next round", err=True)
