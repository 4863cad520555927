"""``mailpipe run`` (the three services in one process) and ``mailpipe demo``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mailpipe.cli_errors import error_exit

if TYPE_CHECKING:
    from libs.common.settings import Settings
    from services.web.app import WebServer


def run(
    broker_url: Annotated[
        str,
        typer.Option(
            metavar="URL",
            help="Broker of this process; the default keeps the queues in memory "
            "(MAILPIPE_AMQP_URL is not used)",
        ),
    ] = "memory://",
    web: Annotated[
        bool,
        typer.Option(
            "--web/--no-web",
            help="Serve the web console too, on MAILPIPE_WEB_HOST:MAILPIPE_WEB_PORT "
            "(127.0.0.1:8025)",
        ),
    ] = True,
) -> None:
    """Run fetcher, ticketer and sender in one process (in-memory broker, SQLite by default),
    and the web console."""
    from libs.common.config_source import service_config
    from libs.common.db import current_revision
    from libs.common.settings import Settings
    from libs.common.startup import check_broker_url
    from mailpipe.embedded import embedded_settings

    with error_exit("run"):
        check_broker_url(broker_url, "--broker-url")
        settings = embedded_settings(Settings(), broker_url)
        # What would stop the start is checked before the banner, so that a failure is the
        # one line on stderr: the mailbox file (or the first integration, waited for), then
        # the database (connect once).
        service_config(settings)
        current_revision(settings.database_url.get_secret_value())
        if broker_url != "memory://":
            _check_broker(broker_url, settings.namespace)
        code = _run_checked(settings, broker_url, web)
    raise typer.Exit(code)


def _run_checked(settings: Settings, broker_url: str, web: bool) -> int:
    """The banner, then the pipeline (and the console) until SIGTERM/SIGINT."""
    from mailpipe.embedded import run_embedded

    queues = "in memory (memory://)" if broker_url == "memory://" else _redacted(broker_url)
    records = _redacted(settings.database_url.get_secret_value())
    console = _start_console(settings, broker_url) if web else None
    where = f"; console on {console.where}" if console else ""
    typer.echo(
        f"mailpipe run: fetcher, ticketer and sender in one process; queues {queues}, "
        f"records in {records}{where}",
        err=True,
    )
    try:
        return run_embedded(settings)
    finally:
        if console is not None:
            console.stop()


def _start_console(settings: Settings, broker_url: str) -> WebServer:
    """The web console on a thread of this process, on the pipeline's database, integrations
    and broker (``--broker-url``: the dead letters of its quarantine and health pages)."""
    from libs.common.blobs import open_blobs
    from libs.common.db.mailbox_health import MailboxHealthStore
    from services.web.app import WebServer, open_accounts
    from services.web.config import WebSettings
    from services.web.health_report import HealthSource
    from services.web.mailboxes import open_mailboxes

    web = WebSettings()
    accounts = open_accounts(settings.database_url.get_secret_value(), web)
    health = HealthSource.from_settings(settings, MailboxHealthStore(accounts.store.engine))
    mailboxes = open_mailboxes(settings)
    blobs = open_blobs(settings)
    return WebServer(
        accounts, web, web.host, web.port, broker_url, health, mailboxes, blobs
    ).start()


def demo(
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep running after the demo and take new mail")
    ] = False,
    state_dir: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR", help="Keep the simulator's CA, the database, blobs and log here"
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(metavar="URL", help="Database (default: SQLite in the state directory)"),
    ] = None,
    blob_dir: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="Blob directory (default: in the state directory)"),
    ] = None,
) -> None:
    """Watch mailpipe work: a simulated mailbox, sample mail, records, replies. Needs nothing."""
    from rich.console import Console

    from mailpipe.demo import DemoOptions, run_demo

    options = DemoOptions(
        state_dir=state_dir, follow=follow, database_url=database_url, blob_dir=blob_dir
    )
    given = {"MAILPIPE_DATABASE_URL": "--database-url"} if database_url else None
    with error_exit("demo", given):
        code = run_demo(options, Console())
    raise typer.Exit(code)


def _check_broker(url: str, namespace: str) -> None:
    """Connect to ``--broker-url`` once, so that a broker that is down or refuses us is the one
    line on stderr (the services would only find out after the banner)."""
    from libs.common.broker import Broker, Names
    from libs.common.broker.publisher import close_quietly, open_connection
    from libs.common.startup import broker_failure

    conn = Broker(url, Names(namespace)).connection()
    try:
        open_connection(conn)
    except Exception as exc:  # every failure here is the broker's answer; mapped once
        raise broker_failure(exc, url, namespace, setting="--broker-url") from None
    finally:
        close_quietly(conn)


def _redacted(url: str) -> str:
    from libs.common.redact import redact_url

    return redact_url(url)
