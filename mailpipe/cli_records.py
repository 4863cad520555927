"""``mailpipe records list/show`` and ``mailpipe quarantine list/replay/drop``.

They read ``MAILPIPE_DATABASE_URL`` (and, for replay and drop, ``MAILPIPE_CONFIG``).
``--json`` prints the store's JSON shapes (``RecordSummary``/``RecordDetail``/
``QuarantineRow.as_json``, with the entry's ``state``); without it, rich tables. Imports are
lazy: ``mailpipe --help`` loads no database driver.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from mailpipe.cli_errors import error_exit, fail

if TYPE_CHECKING:
    from services.ticketer.store import QuarantineRow, RecordDetail, RecordStore, RecordSummary

# Plain help (rich_markup_mode=None): rich help shows Python types beside every option;
# the id arguments are explained in the docstrings (an argument's own line shows <int>).
records_app = typer.Typer(
    help="Look at records (tickets).", no_args_is_help=True, rich_markup_mode=None
)
quarantine_app = typer.Typer(
    help="Mail the ticketer gave up on.", no_args_is_help=True, rich_markup_mode=None
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


@contextmanager
def _store(command: str) -> Iterator[RecordStore]:
    from libs.common.settings import Settings
    from services.ticketer.store import RecordStore

    with error_exit(command):
        settings = Settings()
        url = settings.database_url.get_secret_value()
        _refuse_missing_sqlite(url, explicit="database_url" in settings.model_fields_set)
        store = RecordStore.open(url)
    try:
        with error_exit(command):
            yield store
    finally:
        store.close()


def _refuse_missing_sqlite(url: str, *, explicit: bool) -> None:
    """A command that looks at records never creates a database: an SQLite file that is not
    there is a wrong URL or directory (SQLite would silently make an empty one)."""
    from pathlib import Path

    from libs.common.db.engine import parse_url, safe_url
    from libs.common.errors import ConfigError

    parsed = parse_url(url)
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:":
        return
    if Path(path).exists():
        return
    unset = "" if explicit else "; MAILPIPE_DATABASE_URL is not set and this is its default"
    raise ConfigError(
        f"no database at {Path(path).resolve()} ({safe_url(url)}{unset})",
        hint="set MAILPIPE_DATABASE_URL to the database the ticketer or `mailpipe run` writes; "
        "a relative SQLite path is read from the current directory",
    )


def _fail(command: str, exc: Exception, code: int = 2) -> NoReturn:
    fail(command, exc, code)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@records_app.command("list")
def records_list(
    as_json: JsonFlag = False,
    mailbox: Annotated[
        str | None, typer.Option(metavar="ADDRESS", help="Only this mailbox")
    ] = None,
    status: Annotated[
        str | None, typer.Option(metavar="STATUS", help="open, pending or closed")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(metavar="N", help="At most this many records")
    ] = None,
) -> None:
    """Records, oldest first: id, mailbox, subject, requester, status, message count, times."""
    if status is not None and status not in ("open", "pending", "closed"):
        _fail("records list", ValueError(f"unknown status {status!r}: open, pending or closed"))
    with _store("records list") as store:
        found = store.list_records(mailbox=mailbox, status=status, limit=limit)  # type: ignore[arg-type]
    if as_json:
        _print_json([r.as_json() for r in found])
    else:
        _records_table(found)


@records_app.command("show")
def records_show(
    record_id: Annotated[int, typer.Argument(metavar="RECORD_ID", hidden=True)],
    as_json: JsonFlag = False,
) -> None:
    """One record (RECORD_ID, as `records list` shows it) with its messages, attachments and
    delivery failures."""
    with _store("records show") as store:
        detail = store.get_record(record_id)
    if detail is None:
        _fail("records show", LookupError(f"record {record_id} does not exist"), code=1)
    if as_json:
        _print_json(detail.as_json())
    else:
        _record_detail(detail)


@quarantine_app.command("list")
def quarantine_list(
    as_json: JsonFlag = False,
    mailbox: Annotated[
        str | None, typer.Option(metavar="ADDRESS", help="Only this mailbox")
    ] = None,
    include_replayed: Annotated[
        bool, typer.Option("--all", help="Include entries already replayed or dropped")
    ] = False,
) -> None:
    """Mail given up on, with the reason; replay an entry with `mailpipe quarantine replay ID`
    or drop it with `mailpipe quarantine drop ID --yes`."""
    with _store("quarantine list") as store:
        rows = store.list_quarantine(mailbox=mailbox, include_replayed=include_replayed)
    if as_json:
        _print_json([r.as_json() for r in rows])
    else:
        _quarantine_table(rows)


@quarantine_app.command("replay")
def quarantine_replay(
    entry_id: Annotated[int, typer.Argument(metavar="ENTRY_ID", hidden=True)],
) -> None:
    """Move the mail of ENTRY_ID (as `quarantine list` shows it) back from the quarantine
    folder, so that the fetcher handles it again."""
    from libs.common.config_source import service_config
    from libs.common.settings import Settings
    from services.ticketer.replay import replay

    with _store("quarantine replay") as store:
        message = replay(store, entry_id, service_config(Settings(), wait=False))
    typer.echo(message)


@quarantine_app.command("drop")
def quarantine_drop(
    entry_id: Annotated[int, typer.Argument(metavar="ENTRY_ID", hidden=True)],
    note: Annotated[
        str, typer.Option(metavar="TEXT", help="Why it is not wanted (kept with the entry)")
    ] = "",
    yes: Annotated[
        bool, typer.Option("--yes", help="Really drop it: the mail is deleted from the folder")
    ] = False,
) -> None:
    """Drop ENTRY_ID (as `quarantine list` shows it): its mail is not wanted. The mail is
    deleted from the quarantine folder (into Recoverable Items) and the entry kept as history,
    with who dropped it, when and the note; it can no longer be replayed (needs --yes)."""
    from libs.common.config_source import service_config
    from libs.common.settings import Settings
    from services.ticketer.replay import drop

    if not yes:
        _fail(
            "quarantine drop",
            ValueError("dropping deletes the mail: add --yes (look first: quarantine list)"),
        )
    with _store("quarantine drop") as store:
        config = service_config(Settings(), wait=False)
        done = drop(store, entry_id, config, _operator(), note)
    typer.echo(done.line)


def _operator() -> str:
    """Who drops, as the database keeps it: the user running the command."""
    import getpass

    try:
        return f"{getpass.getuser()} (cli)"
    except (OSError, KeyError):  # no user name in the environment or the password database
        return "(cli)"


def _records_table(found: list[RecordSummary]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "mailbox", "subject", "requester", "status", "messages", "updated")
    for r in found:
        requester = r.requester.address if r.requester else ""
        table.add_row(
            str(r.id),
            r.mailbox,
            r.subject,
            requester,
            r.status,
            str(r.message_count),
            r.updated_at.strftime("%Y-%m-%d %H:%M"),
        )
    Console().print(table)


def _record_detail(detail: RecordDetail) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    r = detail.record
    requester = f"{r.requester.name} <{r.requester.address}>" if r.requester else "-"
    console.print(f"[bold]#{r.id}[/bold] {r.subject}  ({r.status}, {r.mailbox})")
    console.print(f"requester: {requester}  created {r.created_at:%Y-%m-%d %H:%M}")
    table = Table("dir", "kind", "from", "subject", "text", "attachments", "failures")
    for m in detail.messages:
        failures = ", ".join(f"{d.recipient} {d.status}" for d in m.delivery_failures)
        table.add_row(
            m.direction,
            m.kind,
            m.from_.address if m.from_ else "",
            m.subject,
            (m.body_text or "")[:200],
            ", ".join(a.name for a in m.attachments),
            failures,
        )
    console.print(table)


def _quarantine_table(rows: list[QuarantineRow]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "mailbox", "subject", "reason", "detail", "attempts", "created", "state")
    for q in rows:
        table.add_row(
            str(q.id),
            q.mailbox,
            q.subject,
            q.reason,
            q.detail[:120],
            str(q.attempts),
            q.created_at.strftime("%Y-%m-%d %H:%M"),
            q.state if q.dropped_by is None else f"{q.state} by {q.dropped_by}",
        )
    Console().print(table)
