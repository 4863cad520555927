"""``mailpipe config import|export|list`` (integrations in the database) and ``mailpipe
secrets new-key`` (the key their secrets are sealed with): docs/configuration.md,
"Integrations in the database". Heavy imports happen inside the commands.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mailpipe.cli_errors import error_exit

if TYPE_CHECKING:
    from libs.common.db.integrations import Integrations
    from libs.common.integration_rules import Integration, IntegrationFields
    from libs.common.secret_box import SecretBox

config_app = typer.Typer(
    help="Integrations (mailboxes and their Entra apps) in the database.", no_args_is_help=True
)
secrets_app = typer.Typer(help="The key of the integrations' stored secrets.", no_args_is_help=True)

#: What the console sets and a mailbox file does not say: kept when a file updates one.
_CONSOLE_ONLY = ("name", "enabled", "direction", "is_default", "secret_expires_on")


def _store() -> Integrations:
    from libs.common.db.integrations import Integrations
    from libs.common.settings import Settings

    return Integrations.open(Settings().database_url.get_secret_value())


@config_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A mailbox TOML file")],
) -> None:
    """Save each [[mailboxes]] of FILE as an integration (an existing one of the same address is
    updated); secrets, from the file or its *_file paths, are stored encrypted."""
    from libs.common.config_source import secrets_box
    from libs.common.integration_toml import imported
    from libs.common.settings import GraphConfig, Settings, load_config

    with error_exit("config import"):
        box = secrets_box(Settings())
        config = load_config(file)
        boxes = imported(config)
        store = _store()
        try:
            for fields in boxes:
                typer.echo(_import_one(store, fields, box))
        finally:
            store.close()
        if config.graph != GraphConfig():
            typer.echo(f"{file}: [graph] is not stored; keep it in MAILPIPE_CONFIG", err=True)


def _import_one(store: Integrations, fields: IntegrationFields, box: SecretBox) -> str:
    before = store.find(fields.address)
    if before is None:
        saved = store.save(fields, box)
        return f"created integration {saved.id} ({saved.fields.address})"
    kept = {name: getattr(before.fields, name) for name in _CONSOLE_ONLY}
    saved = store.save(dataclasses.replace(fields, **kept), box, before.id)
    return f"updated integration {saved.id} ({saved.fields.address})"


@config_app.command("export")
def export(
    out: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", help="Write here (default: stdout)")
    ] = None,
) -> None:
    """Write the integrations as a mailbox TOML file; secrets are NOT exported."""
    from libs.common.integration_toml import export_toml

    with error_exit("config export"):
        store = _store()
        try:
            text = export_toml(store.list())
        finally:
            store.close()
        if out is None:
            typer.echo(text, nl=False)
            return
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            typer.echo(f"mailpipe config export: cannot write {out}: {exc.strerror}", err=True)
            raise typer.Exit(2) from None
        typer.echo(f"wrote {out} (secrets not included)", err=True)


@config_app.command("list")
def list_integrations() -> None:
    """Show the integrations: no secret is read or shown."""
    with error_exit("config list"):
        store = _store()
        try:
            found = store.list()
        finally:
            store.close()
    if not found:
        typer.echo("no integrations yet: `mailpipe config import FILE` adds them")
        return
    for item in found:
        typer.echo(_line(item))


def _line(item: Integration) -> str:
    f = item.fields
    flags = [
        "enabled" if f.enabled else "disabled",
        f.direction,
        f.credential_kind,
        *(["default"] if f.is_default else []),
        *([f"secret expires {f.secret_expires_on}"] if f.secret_expires_on else []),
    ]
    return f"{item.id}  {f.name}  {f.address}  {', '.join(flags)}  (revision {item.revision})"


@secrets_app.command("new-key")
def new_key() -> None:
    """Print a fresh secrets key (for MAILPIPE_SECRETS_KEY_FILE or MAILPIPE_SECRETS_KEY)."""
    from libs.common.secret_box import new_key as make

    typer.echo(make())
