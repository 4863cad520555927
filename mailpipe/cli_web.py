"""``mailpipe web`` (the console) and ``mailpipe admin`` (its accounts). Imports only typer
until a command runs."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from mailpipe.cli_errors import error_exit, fail

admin_app = typer.Typer(
    help="Console accounts: create the first admin, list who may sign in.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def web(
    host: Annotated[
        str | None, typer.Option(metavar="HOST", help="Address to listen on [127.0.0.1]")
    ] = None,
    port: Annotated[int | None, typer.Option(metavar="PORT", help="Port [8025]")] = None,
) -> None:
    """Serve the web console (sign-in, users, audit log, integrations) on the database of
    MAILPIPE_DATABASE_URL."""
    from libs.common.blobs import open_blobs
    from libs.common.logging import configure_logging
    from libs.common.settings import Settings
    from services.web.app import WebServer, open_accounts
    from services.web.config import WebSettings
    from services.web.mailboxes import open_mailboxes

    with error_exit("web"):
        settings, web_settings = Settings(), WebSettings()
        configure_logging("web", settings.log_level)
        accounts = open_accounts(settings.database_url.get_secret_value(), web_settings)
        server = WebServer(
            accounts,
            web_settings,
            host or web_settings.host,
            port or web_settings.port,
            mailboxes=open_mailboxes(settings),
            blobs=open_blobs(settings),
            metrics_port=settings.health_port,
        )
        code = server.run()
    raise typer.Exit(code)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@admin_app.command("create-user")
def create_user(
    username: Annotated[str, typer.Argument(metavar="USERNAME")],
    role: Annotated[str, typer.Option(metavar="ROLE", help="admin or agent")],
    display_name: Annotated[str, typer.Option(metavar="NAME", help="Name shown in pages")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Create a console account; the password is asked twice (or read from stdin), never an
    argument."""
    from libs.common.settings import Settings
    from services.web.admin import create_account
    from services.web.app import open_accounts
    from services.web.config import WebSettings

    password = _read_password(password_stdin)
    if not password:
        fail("admin create-user", "no password given (type one, or pipe it to --password-stdin)")
    with error_exit("admin create-user"):
        url = Settings().database_url.get_secret_value()
        accounts = open_accounts(url, WebSettings())
        try:
            user = create_account(accounts, username, display_name, role, password)
        finally:
            accounts.store.close()
    typer.echo(f"created {user.username} ({user.role})")


@admin_app.command("list-users")
def list_users() -> None:
    """Every console account: username, role, state and display name."""
    from libs.common.settings import Settings
    from services.web.store import ConsoleStore

    with error_exit("admin list-users"):
        store = ConsoleStore.open(Settings().database_url.get_secret_value(), migrate=False)
        try:
            users = store.users()
        finally:
            store.close()
    for user in users:
        state = "disabled" if user.disabled else "active"
        typer.echo(f"{user.username}\t{user.role}\t{state}\t{user.display_name}")
