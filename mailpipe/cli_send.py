"""``mailpipe send``: publish one outbound job from the command line, optionally wait for it.

The job is built by :mod:`mailpipe.cli_send_job`. Heavy imports happen inside the command, so
``mailpipe --help`` stays instant.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mailpipe.cli_send_job import attachment_entry, build_job

if TYPE_CHECKING:
    from kombu import Connection, Queue

    from libs.common.broker import Broker, Names
    from libs.common.contracts import OutboundEmail, OutboundResult
    from libs.common.settings import Settings


def publish_and_wait(
    broker: Broker, job: OutboundEmail, *, wait: bool, timeout_s: float
) -> OutboundResult | None:
    """Publish the job; with ``wait`` return its result (``None`` on timeout).

    The result queue is exclusive to this connection and bound before publishing, so the
    result cannot slip past.
    """
    if not wait:
        broker.publish_routed(job, correlation_id=job.job_id)
        return None
    conn = broker.connection()
    try:
        conn.connect()
        queue = _result_queue(conn, broker.names)
        broker.publish_routed(job, correlation_id=job.job_id)
        return _await_result(queue, job.job_id, timeout_s)
    finally:
        conn.release()


def _result_queue(conn: Connection, names: Names) -> Queue:
    """A queue of this connection's own, declared and bound to the sender's results."""
    from kombu import Exchange, Queue

    queue = Queue(
        f"{names.namespace}.cli.{uuid.uuid4().hex[:12]}",
        Exchange(names.events, type="topic", passive=True),
        routing_key=names.results_binding,
        exclusive=True,
        auto_delete=True,
        durable=False,
    ).bind(conn.channel())
    queue.declare()
    return queue


def _await_result(queue: Queue, job_id: str, timeout_s: float) -> OutboundResult | None:
    """The result for ``job_id`` (others are dropped), or ``None`` after ``timeout_s``."""
    from libs.common.contracts import OutboundResult

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        message = queue.get(no_ack=True)
        if message is None:
            time.sleep(0.2)
            continue
        result = OutboundResult.from_json(message.body)
        if result.job_id == job_id:
            return result
    return None


def check_broker(broker: Broker, url: str, *, wait: bool) -> None:
    """Connect once and look for the namespace's exchanges, so that a broker that is down or
    refuses us, or a namespace no service declared, is one clear error before publishing
    (the publisher would retry each for seconds and then speak of exchanges)."""
    from libs.common.broker.publisher import close_quietly, open_connection
    from libs.common.startup import broker_failure

    conn = broker.connection()
    try:
        open_connection(conn)
        channel = conn.channel()
        for exchange in (broker.names.outbound, *([broker.names.events] if wait else [])):
            channel.exchange_declare(exchange=exchange, type="topic", passive=True)
    except Exception as exc:  # every failure here is the broker's answer; mapped once
        raise broker_failure(exc, url, broker.names.namespace) from None
    finally:
        close_quietly(conn)


# The options of `mailpipe send`, named once so that the command's signature stays readable.
_Mailbox = Annotated[
    str, typer.Option(metavar="ADDRESS", help="The configured service mailbox to send through")
]
_To = Annotated[list[str], typer.Option(metavar="ADDRESS", help="A recipient (repeatable)")]
_Subject = Annotated[str, typer.Option(metavar="TEXT", help="The subject")]
_Cc = Annotated[
    list[str] | None, typer.Option(metavar="ADDRESS", help="A Cc recipient (repeatable)")
]
_From = Annotated[
    str | None,
    typer.Option("--from", metavar="ADDRESS", help="Send as this agent (must be in send_as)"),
]
_Body = Annotated[str | None, typer.Option(metavar="TEXT", help="The text body")]
_HtmlFile = Annotated[
    Path | None, typer.Option(metavar="FILE", help="A file holding the HTML body")
]
_Attach = Annotated[
    list[Path] | None, typer.Option(metavar="FILE", help="A file to attach (repeatable)")
]
_Record = Annotated[int | None, typer.Option(metavar="ID", help="The record this mail belongs to")]
_JobId = Annotated[str | None, typer.Option(metavar="ID", help="Idempotency key (default: new)")]
_Wait = Annotated[bool, typer.Option(help="Wait for the result and print it")]
_Timeout = Annotated[float, typer.Option(metavar="SECONDS", help="Seconds --wait waits")]
_Outbox = Annotated[
    bool,
    typer.Option(
        "--outbox",
        help="Write the job into the database's outbox (MAILPIPE_DATABASE_URL) for a "
        "running `mailpipe run` to send; the default when MAILPIPE_AMQP_URL is memory://",
    ),
]


def send(
    mailbox: _Mailbox,
    to: _To,
    subject: _Subject,
    cc: _Cc = None,
    from_address: _From = None,
    body: _Body = None,
    html_file: _HtmlFile = None,
    attach: _Attach = None,
    record: _Record = None,
    job_id: _JobId = None,
    wait: _Wait = False,
    timeout: _Timeout = 120.0,
    outbox: _Outbox = False,
) -> None:
    """Publish an outbound email job; with --wait print its result (exit 1 unless sent)."""
    from libs.common.blobs import open_blobs
    from mailpipe.cli_outbox import wants_outbox

    if (body is None) == (html_file is None):
        raise typer.BadParameter("give exactly one of --body or --html-file")
    settings = _load_settings()
    with _failures_explained():
        blobs = open_blobs(settings)
        job = build_job(
            job_id=job_id or f"cli-{uuid.uuid4().hex}",
            mailbox=mailbox,
            to=to,
            cc=cc or [],
            from_address=from_address,
            subject=subject,
            text=body,
            html=html_file.read_text(encoding="utf-8") if html_file else None,
            attachments=[attachment_entry(p, blobs.put) for p in attach or []],
            record_id=record,
        )
        outbox = wants_outbox(settings.amqp_url.get_secret_value(), outbox)
        result = _hand_over(settings, job, outbox=outbox, wait=wait, timeout_s=timeout)
    _answer(job, result, settings.namespace, wait=wait, outbox=outbox, timeout_s=timeout)


def _load_settings() -> Settings:
    from libs.common.settings import Settings
    from mailpipe.cli_errors import error_exit

    _quiet_logs()
    with error_exit("send"):
        settings = Settings()
    return settings


@contextmanager
def _failures_explained() -> Iterator[None]:
    """A file that cannot be read, a broker or database that is down or refuses: one line
    and the error exit; anything else is a bug and keeps its traceback."""
    from libs.common.errors import MailpipeError
    from libs.common.startup import explain
    from mailpipe.cli_errors import fail

    try:
        yield
    except OSError as exc:  # a file to attach or the blob directory
        fail("send", f"{exc.filename or ''}: {exc.strerror or exc.__class__.__name__}")
    except (MailpipeError, ValueError) as exc:  # ValueError: a URL kombu cannot parse
        error = explain(exc)
        if error is None:
            raise
        fail("send", error)


def _hand_over(
    settings: Settings, job: OutboundEmail, *, outbox: bool, wait: bool, timeout_s: float
) -> OutboundResult | None:
    """The job to the sender: into the outbox, or published on the broker."""
    from libs.common.broker import Broker, Names
    from mailpipe.cli_outbox import queue_in_outbox

    url = settings.amqp_url.get_secret_value()
    if outbox:  # `mailpipe run` reads no broker another process can reach: the database
        database_url = settings.database_url.get_secret_value()
        return queue_in_outbox(database_url, job, wait=wait, timeout_s=timeout_s)
    with Broker(url, Names(settings.namespace)) as broker:
        check_broker(broker, url, wait=wait)
        return publish_and_wait(broker, job, wait=wait, timeout_s=timeout_s)


def _answer(
    job: OutboundEmail,
    result: OutboundResult | None,
    namespace: str,
    *,
    wait: bool,
    outbox: bool,
    timeout_s: float,
) -> None:
    """The command's answer: the job id, or with --wait the result (exit 1 unless sent)."""
    from mailpipe.cli_errors import fail

    if not wait:
        typer.echo(job.job_id)
        return
    if result is None and outbox:
        fail(
            "send",
            f"no result for {job.job_id} within {timeout_s:g} s (the job is in the outbox: "
            "start `mailpipe run` on this database, or wait longer with --timeout)",
        )
    if result is None:
        fail(
            "send",
            f"no result for {job.job_id} within {timeout_s:g} s (the job is queued: start the "
            f"sender in namespace {namespace!r}, or wait longer with --timeout)",
        )
    typer.echo(result.model_dump_json(by_alias=True, indent=2, exclude_none=True))
    raise typer.Exit(0 if result.status == "sent" else 1)


def _quiet_logs() -> None:
    """Only the command's own line reaches the terminal: the broker's retry warnings would
    land on stdout, where the job id (the command's answer) goes."""
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    logging.getLogger().setLevel(logging.CRITICAL)
