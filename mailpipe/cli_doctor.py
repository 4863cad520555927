"""``mailpipe doctor``: check the configured mailboxes (and the database, when
MAILPIPE_DATABASE_URL is set) live and print ✓ or the fix.

Registered on the ``mailpipe`` app in :mod:`mailpipe.cli`; the checks import the Graph
client only when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE",
        help="The mailbox TOML file (default: MAILPIPE_CONFIG, or the integrations in the "
        "database with MAILPIPE_CONFIG_SOURCE=database)",
    ),
]


def doctor(
    mailbox: Annotated[
        str | None, typer.Option(metavar="ADDRESS", help="Check only this configured mailbox")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON list of {mailbox, step, ok, detail, fix}")
    ] = False,
    send_test: Annotated[
        bool,
        typer.Option(
            help="Prove each send_as grant by sending one message as the agent to the agent"
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Check each mailbox's Entra and Exchange setup step by step, and the database when
    MAILPIPE_DATABASE_URL is set; exit 1 when one fails."""
    from libs.common.settings import Settings
    from mailpipe.cli_errors import error_exit
    from mailpipe.doctor_db import check_database, load_mailboxes
    from mailpipe.doctor_run import exit_code, render_json, render_text, run_doctor

    with error_exit("doctor"):
        settings = Settings()
        loaded, config_check = load_mailboxes(settings, config)
        database = None
        if "database_url" in settings.model_fields_set:
            database = check_database(settings.database_url.get_secret_value())
        reports = []
        if loaded is not None:
            reports = run_doctor(loaded, mailbox=mailbox, send_test=send_test)
    render = render_json if as_json else render_text
    typer.echo(render(config_check, reports, database))
    raise typer.Exit(exit_code(config_check, reports, database))
