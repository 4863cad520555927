"""The ``mailpipe`` command. Each sub-command imports its service lazily, so nothing
connects (or even imports kombu or httpx) before the command runs."""

from __future__ import annotations

import errno
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from libs.common.errors import MailpipeError
from libs.common.startup import one_line
from mailpipe import cli_send
from mailpipe.cli_doctor import doctor as _doctor
from mailpipe.cli_errors import ERROR_EXIT, error_exit, fail
from mailpipe.cli_records import quarantine_app, records_app

app = typer.Typer(
    name="mailpipe",
    help="Run a helpdesk's Microsoft 365 mailbox: fetch mail, make records, send replies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: rich help shows Python types (<bool>, <list[str]>) beside every option.
    rich_markup_mode=None,
)
app.command(name="send")(cli_send.send)


def _run_service(name: str) -> None:
    import importlib

    # One clear line, no traceback, for every start-up failure: no or empty config, a broker
    # or database that is down or refuses us.
    with error_exit(name):
        module = importlib.import_module(f"services.{name}.app")
        code = module.main()
    raise typer.Exit(code or 0)


@app.command()
def fetcher() -> None:
    """Poll the configured mailboxes and publish each email; delete it once processed."""
    _run_service("fetcher")


@app.command()
def ticketer() -> None:
    """Turn emails into records and tell the fetcher they were processed."""
    _run_service("ticketer")


@app.command()
def sender() -> None:
    """Send outbound jobs through Microsoft Graph, under the send-as policy."""
    _run_service("sender")


@app.command()
def notify() -> None:
    """Receive Microsoft Graph's change notifications (behind an HTTPS proxy) and tell the
    fetchers which mailboxes to read at once (docs/push.md)."""
    _run_service("notify")


@app.command()
def schema(
    out: Annotated[
        Path,
        typer.Option(metavar="DIR", help="Folder to write schemas/ and asyncapi.json into"),
    ] = Path("docs"),
) -> None:
    """Write a JSON Schema per contract and the AsyncAPI document."""
    from libs.common.schema_export import BreakingChange, write_all

    try:
        written = write_all(out)
    except OSError as exc:
        fail("schema", f"cannot write into {out}: {exc.strerror or exc} (pick another --out)")
    except BreakingChange as exc:
        fail("schema", str(exc))
    for path in written:
        typer.echo(str(path))


@app.command()
def migrate() -> None:
    """Bring the one database (MAILPIPE_DATABASE_URL) to the newest schema and say so."""
    from libs.common.db import current_revision, head_revision
    from libs.common.db import migrate as upgrade
    from libs.common.db.engine import safe_url
    from libs.common.settings import Settings

    with error_exit("migrate"):
        url = Settings().database_url.get_secret_value()
        before = current_revision(url)
        upgrade(url)
        revision = current_revision(url)
        where = safe_url(url)
    head = " (head)" if revision == head_revision() else ""
    if before == revision:
        done = "nothing to do"
    else:
        done = f"upgraded from {before}" if before else "created the tables"
    typer.echo(f"database at {where} is at revision {revision}{head}; {done}")


# The options of `mailpipe graphsim`, named once so that the command's signature stays readable.
_SimStateDir = Annotated[Path, typer.Option(metavar="DIR", help="Where the CA and keys are kept")]
_SimHost = Annotated[str, typer.Option(metavar="HOST", help="Address to listen on")]
_SimPort = Annotated[int, typer.Option(metavar="PORT", help="HTTPS port (0 picks a free one)")]
_SimMailboxes = Annotated[
    list[str] | None,
    typer.Option(metavar="ADDRESS", help="A mailbox to serve (repeatable)"),
]
_SimWriteConfig = Annotated[
    Path | None,
    typer.Option(metavar="FILE", help="Write a mailpipe TOML config for these mailboxes"),
]
_SimPublicHost = Annotated[
    str | None,
    typer.Option(
        metavar="HOST",
        help="Name clients reach it by (in the written config and the certificate)",
    ),
]
_SimAutoAcknowledge = Annotated[
    bool,
    typer.Option("--auto-acknowledge", help="Turn auto-acknowledgement on in the written config"),
]
_SimAllowHttp = Annotated[
    bool,
    typer.Option(
        "--allow-http-notifications",
        help="Let subscriptions post notifications to http URLs (Graph allows https only)",
    ),
]


@contextmanager
def _listen_errors(command: str, host: str, port: int) -> Iterator[None]:
    """A simulator's port that is taken or not ours to bind: one line saying what to do."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        fail(
            command,
            f"cannot listen on {host}:{port}: {exc.strerror} (pick another --port, 0 picks a "
            "free one, or stop what uses it)",
        )


@app.command()
def graphsim(
    state_dir: _SimStateDir = Path(".graphsim"),
    host: _SimHost = "127.0.0.1",
    port: _SimPort = 8443,
    mailbox: _SimMailboxes = None,
    write_config: _SimWriteConfig = None,
    public_host: _SimPublicHost = None,
    auto_acknowledge: _SimAutoAcknowledge = False,
    allow_http_notifications: _SimAllowHttp = False,
) -> None:
    """Run the Microsoft Graph mail simulator (HTTPS, token endpoint, control API)."""
    from libs.graphsim.server import serve

    with _listen_errors("graphsim", host, port):
        serve(
            state_dir=state_dir,
            host=host,
            port=port,
            mailboxes=list(mailbox or ["support@contoso.com"]),
            write_config=write_config,
            public_host=public_host,
            auto_acknowledge=auto_acknowledge,
            allow_http_notifications=allow_http_notifications,
        )


_GmailSimKey = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE", help="Write the service account key file (JSON) for the mailboxes"
    ),
]


@app.command()
def gmailsim(
    state_dir: _SimStateDir = Path(".gmailsim"),
    host: _SimHost = "127.0.0.1",
    port: _SimPort = 8444,
    mailbox: _SimMailboxes = None,
    write_key: _GmailSimKey = None,
    public_host: _SimPublicHost = None,
    write_config: _SimWriteConfig = None,
) -> None:
    """Run the Gmail API simulator (HTTPS, service-account token endpoint, control API)."""
    from libs.gmailsim.server import serve

    with _listen_errors("gmailsim", host, port):
        serve(
            state_dir=state_dir,
            host=host,
            port=port,
            mailboxes=list(mailbox or ["support@example.com"]),
            write_key_file=write_key,
            public_host=public_host,
            write_config=write_config,
        )


# Probes for container healthchecks; cli_ops imports only the standard library and typer.
from mailpipe.cli_ops import healthcheck  # noqa: E402

app.command()(healthcheck)


app.add_typer(records_app, name="records")
app.add_typer(quarantine_app, name="quarantine")

# Dead-letter queues; cli_dead imports only typer until a command runs.
from mailpipe.cli_dead import dead_app  # noqa: E402

app.add_typer(dead_app, name="dead")

# The blob store's garbage collection; cli_blobs imports only typer until a command runs.
from mailpipe.cli_blobs import blobs_app  # noqa: E402

app.add_typer(blobs_app, name="blobs")

# Integrations in the database and their secrets key; cli_config imports only typer until a
# command runs.
from mailpipe.cli_config import config_app, secrets_app  # noqa: E402

app.add_typer(config_app, name="config")
app.add_typer(secrets_app, name="secrets")

app.command(name="doctor")(_doctor)

# The web console and its accounts; cli_web imports only typer until a command runs.
from mailpipe.cli_web import admin_app, web  # noqa: E402

app.command(name="web")(web)
app.add_typer(admin_app, name="admin")

# The embedded mode and the demo; cli_run imports only typer until a command runs.
from mailpipe import cli_run  # noqa: E402

app.command(name="run")(cli_run.run)
app.command(name="demo")(cli_run.demo)


def main() -> None:
    # Each command has its own error exit; this one catches what a command let through.
    try:
        app()
    except MailpipeError as exc:
        typer.echo(f"mailpipe: {one_line(exc)}", err=True)
        sys.exit(ERROR_EXIT)


if __name__ == "__main__":
    main()
