"""``mailpipe send``: publish one outbound job from the command line, optionally wait for it.

Small files travel inline (base64) in the job; larger ones go into the blob store
(``MAILPIPE_BLOB_DIR``, which the sender must share) and the job carries their reference.
Heavy imports happen inside the command, so ``mailpipe --help`` stays instant.
"""

from __future__ import annotations

import base64
import mimetypes
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from libs.common.broker import Broker
    from libs.common.contracts import OutboundEmail, OutboundResult

#: Files up to this size ride in the job itself; larger ones go through the blob store.
INLINE_ATTACHMENT_BYTES = 1024 * 1024


def attachment_entry(path: Path, put_blob: Any) -> dict[str, Any]:
    """The job's attachment for ``path``: inline base64 when small, else a blob reference."""
    data = path.read_bytes()
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    entry: dict[str, Any] = {"name": path.name, "content_type": content_type}
    if len(data) <= INLINE_ATTACHMENT_BYTES:
        entry["content_base64"] = base64.b64encode(data).decode("ascii")
    else:
        entry["blob"] = put_blob(data).model_dump()
    return entry


def build_job(
    *,
    job_id: str,
    mailbox: str,
    to: list[str],
    cc: list[str],
    from_address: str | None,
    subject: str,
    text: str | None,
    html: str | None,
    attachments: list[dict[str, Any]],
    record_id: int | None,
) -> OutboundEmail:
    """The job, validated by its contract (a ContractError names the bad field)."""
    from datetime import UTC, datetime

    from libs.common.contracts import OutboundEmail

    data: dict[str, Any] = {
        "job_id": job_id,
        "mailbox": mailbox,
        "from_address": from_address,
        "to": [{"address": a} for a in to],
        "cc": [{"address": a} for a in cc],
        "subject": subject,
        "text": text,
        "html": html,
        "attachments": attachments,
        "record_id": record_id,
        "created_at": datetime.now(UTC).isoformat(),
    }
    return OutboundEmail.from_json(_json(data))


def _json(data: dict[str, Any]) -> bytes:
    import json

    return json.dumps(data).encode("utf-8")


def publish_and_wait(
    broker: Broker, job: OutboundEmail, *, wait: bool, timeout_s: float
) -> OutboundResult | None:
    """Publish the job; with ``wait`` return its result (``None`` on timeout).

    The result queue is exclusive to this connection and bound before publishing, so the
    result cannot slip past.
    """
    from kombu import Exchange, Queue

    from libs.common.contracts import OutboundResult

    names = broker.names
    if not wait:
        broker.publish_routed(job, correlation_id=job.job_id)
        return None
    conn = broker.connection()
    try:
        conn.connect()
        queue = Queue(
            f"{names.namespace}.cli.{uuid.uuid4().hex[:12]}",
            Exchange(names.events, type="topic", passive=True),
            routing_key=names.results_binding,
            exclusive=True,
            auto_delete=True,
            durable=False,
        ).bind(conn.channel())
        queue.declare()
        broker.publish_routed(job, correlation_id=job.job_id)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            message = queue.get(no_ack=True)
            if message is None:
                time.sleep(0.2)
                continue
            result = OutboundResult.from_json(message.body)
            if result.job_id == job.job_id:
                return result
        return None
    finally:
        conn.release()


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


def send(
    mailbox: Annotated[
        str, typer.Option(metavar="ADDRESS", help="The configured service mailbox to send through")
    ],
    to: Annotated[list[str], typer.Option(metavar="ADDRESS", help="A recipient (repeatable)")],
    subject: Annotated[str, typer.Option(metavar="TEXT", help="The subject")],
    cc: Annotated[
        list[str] | None, typer.Option(metavar="ADDRESS", help="A Cc recipient (repeatable)")
    ] = None,
    from_address: Annotated[
        str | None,
        typer.Option("--from", metavar="ADDRESS", help="Send as this agent (must be in send_as)"),
    ] = None,
    body: Annotated[str | None, typer.Option(metavar="TEXT", help="The text body")] = None,
    html_file: Annotated[
        Path | None, typer.Option(metavar="FILE", help="A file holding the HTML body")
    ] = None,
    attach: Annotated[
        list[Path] | None, typer.Option(metavar="FILE", help="A file to attach (repeatable)")
    ] = None,
    record: Annotated[
        int | None, typer.Option(metavar="ID", help="The record this mail belongs to")
    ] = None,
    job_id: Annotated[
        str | None, typer.Option(metavar="ID", help="Idempotency key (default: new)")
    ] = None,
    wait: Annotated[bool, typer.Option(help="Wait for the result and print it")] = False,
    timeout: Annotated[float, typer.Option(metavar="SECONDS", help="Seconds --wait waits")] = 120.0,
    outbox: Annotated[
        bool,
        typer.Option(
            "--outbox",
            help="Write the job into the database's outbox (MAILPIPE_DATABASE_URL) for a "
            "running `mailpipe run` to send; the default when MAILPIPE_AMQP_URL is memory://",
        ),
    ] = False,
) -> None:
    """Publish an outbound email job; with --wait print its result (exit 1 unless sent)."""
    from libs.common.blobs import BlobStore
    from libs.common.broker import Broker, Names
    from libs.common.errors import MailpipeError
    from libs.common.settings import Settings
    from libs.common.startup import explain
    from mailpipe.cli_errors import error_exit, fail
    from mailpipe.cli_outbox import queue_in_outbox, wants_outbox

    if (body is None) == (html_file is None):
        raise typer.BadParameter("give exactly one of --body or --html-file")
    _quiet_logs()
    with error_exit("send"):
        settings = Settings()
    try:
        blobs = BlobStore(settings.blob_dir)
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
        url = settings.amqp_url.get_secret_value()
        outbox = wants_outbox(url, outbox)
        if outbox:  # `mailpipe run` reads no broker another process can reach: the database
            database_url = settings.database_url.get_secret_value()
            result = queue_in_outbox(database_url, job, wait=wait, timeout_s=timeout)
        else:
            with Broker(url, Names(settings.namespace)) as broker:
                check_broker(broker, url, wait=wait)
                result = publish_and_wait(broker, job, wait=wait, timeout_s=timeout)
    except OSError as exc:  # a file to attach or the blob directory
        fail("send", f"{exc.filename or ''}: {exc.strerror or exc.__class__.__name__}")
    except (MailpipeError, ValueError) as exc:  # ValueError: a URL kombu cannot parse
        error = explain(exc)
        if error is None:
            raise
        fail("send", error)
    if not wait:
        typer.echo(job.job_id)
        return
    if result is None and outbox:
        fail(
            "send",
            f"no result for {job.job_id} within {timeout:g} s (the job is in the outbox: "
            "start `mailpipe run` on this database, or wait longer with --timeout)",
        )
    if result is None:
        fail(
            "send",
            f"no result for {job.job_id} within {timeout:g} s (the job is queued: start the "
            f"sender in namespace {settings.namespace!r}, or wait longer with --timeout)",
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
