"""``mailpipe dead list|show|retry|drop``: the dead-letter queues of every work queue, seen and
replayed without RabbitMQ's own tools (docs/broker.md, "Dead letters").

Exit codes: 0 done; 1 the message named is not there; 2 the command cannot run (broker,
namespace, arguments). Heavy imports happen inside the commands.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from mailpipe.cli_errors import error_exit, fail

if TYPE_CHECKING:
    from libs.common.broker.dead import DeadLetter
    from libs.common.broker.dead_queue import DeadLetters, Pass
    from libs.common.broker.names import WorkQueue

dead_app = typer.Typer(
    help="See, retry or drop the messages each service gave up on (its dead-letter queue).",
    no_args_is_help=True,
)

QueueOption = Annotated[
    str | None,
    typer.Option(
        "--queue",
        metavar="QUEUE",
        help="One work queue: ticketer, fetcher.processed, sender, ticketer.results, "
        "ticketer.quarantine (default: all)",
    ),
]
IdArgument = Annotated[
    str | None,
    # No help text here: typer would show the Python type beside it; the docstrings say it.
    typer.Argument(metavar="ID", show_default=False),
]
AllOption = Annotated[bool, typer.Option("--all", help="Every message of the queue(s)")]


def _short(letters: DeadLetters, queue: WorkQueue) -> str:
    return queue.name.removeprefix(letters.namespace + ".")


def _fail(command: str, message: str, code: int = 2) -> NoReturn:
    fail(f"dead {command}", message, code)


@contextmanager
def _dead_letters(command: str) -> Iterator[DeadLetters]:
    """The namespace's dead-letter queues; any known failure is one line and exit 2."""
    from libs.common.broker import Broker, Names
    from libs.common.broker.dead_queue import DeadLetters
    from libs.common.settings import Settings

    with error_exit(f"dead {command}"):
        settings = Settings()
        with Broker(settings.amqp_url.get_secret_value(), Names(settings.namespace)) as broker:
            yield DeadLetters(broker)


@dead_app.command(name="list")
def list_(
    queue: QueueOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document")] = False,
    limit: Annotated[
        int, typer.Option(min=1, metavar="N", help="Messages shown per queue at most")
    ] = 100,
) -> None:
    """How many messages wait in each dead-letter queue, and one line per message: id, when,
    why, attempts, and which mail or job it is."""
    with _dead_letters("list") as letters:
        passes: list[tuple[WorkQueue, Pass | None]] = [
            (q, _list_one(letters, q, limit)) for q in letters.queues(queue)
        ]
        if all(p is None for _, p in passes):
            _fail("list", _none_declared(letters))
    if as_json:
        typer.echo(json.dumps({"queues": [_queue_json(q, p) for q, p in passes]}, indent=2))
        return
    for work_queue, done in passes:
        for line in _queue_lines(work_queue, done):
            typer.echo(line)


def _list_one(letters: DeadLetters, queue: WorkQueue, limit: int | None) -> Pass | None:
    """The queue's letters, or None when it is not declared (a namespace part not run)."""
    from libs.common.broker.dead_queue import QueueMissing

    try:
        return letters.read(queue, limit)
    except QueueMissing:
        return None


def _none_declared(letters: DeadLetters) -> str:
    return str(letters.missing(letters.queues()[0]))


def _queue_json(queue: WorkQueue, done: Pass | None) -> dict[str, Any]:
    from libs.common.broker.dead_view import summary

    return {
        "queue": queue.dead,
        "work_queue": queue.name,
        "declared": done is not None,
        "waiting": done.ready if done else 0,
        "messages": [summary(letter) for letter in done.seen] if done else [],
    }


def _queue_lines(queue: WorkQueue, done: Pass | None) -> Iterator[str]:
    if done is None:
        yield f"{queue.dead}: not declared (no service has consumed {queue.name} here)"
        return
    more = (
        f" (first {len(done.seen)} shown; --limit N for more)"
        if done.ready > len(done.seen)
        else ""
    )
    yield f"{queue.dead}: {done.ready} waiting{more}"
    for letter in done.seen:
        yield "  " + line_of(letter)


def line_of(letter: DeadLetter) -> str:
    """One line: id, when, reason, attempts, what, error (every part made one-line-safe)."""
    from libs.common.broker.dead import one_line

    when = letter.dead_at.strftime("%Y-%m-%d %H:%M:%SZ") if letter.dead_at else "when unknown"
    tries = f"attempts {letter.attempts}" if letter.attempts is not None else "attempts ?"
    if letter.retries:
        tries += f", {letter.retries} retries"
    if letter.replays:
        tries += f", replayed {letter.replays}x"
    what = " ".join(f"{k}={v}" for k, v in letter.what.items()) or "(body is not a contract)"
    parts = [letter.key, when, one_line(letter.reason, 60), tries, one_line(letter.schema, 60)]
    return one_line("  ".join([*parts, what]) + " | " + letter.error, 400)


@dead_app.command()
def show(ident: IdArgument = None, queue: QueueOption = None) -> None:
    """Everything about message ID (as `mailpipe dead list` shows it; its first 6+
    characters are enough): why, when, headers and body, credentials hidden."""
    from libs.common.broker.dead_view import details

    if not ident:
        _fail("show", "name a message: mailpipe dead show ID (ids: mailpipe dead list)")
    with _dead_letters("show") as letters:
        _, found = _resolve(letters, "show", ident, queue)
    shown = details(found[0])
    shown["copies"] = len(found)
    typer.echo(json.dumps(shown, indent=2, ensure_ascii=False))


@dead_app.command()
def retry(ident: IdArgument = None, every: AllOption = False, queue: QueueOption = None) -> None:
    """Move message ID (or --all) back to its work queue with a fresh retry budget, once
    (published and confirmed before it leaves the dead-letter queue)."""
    _act("retry", ident, every, queue, lambda letters, q, select: letters.retry(q, select))


@dead_app.command()
def drop(
    ident: IdArgument = None,
    every: AllOption = False,
    queue: QueueOption = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Really remove them; cannot be undone")
    ] = False,
) -> None:
    """Remove message ID (or --all) from the dead-letter queue for good (needs --yes)."""
    if not yes:
        _fail("drop", "dropping cannot be undone: add --yes (look first: mailpipe dead show ID)")
    _act("drop", ident, every, queue, lambda letters, q, select: letters.drop(q, select))


Action = Callable[["DeadLetters", "WorkQueue", Callable[["DeadLetter"], bool]], "Pass"]


def _act(command: str, ident: str | None, every: bool, queue: str | None, act: Action) -> None:
    from libs.common.broker.dead_view import RETRY_NOTES

    if bool(ident) == every:
        _fail(command, f"name one message (mailpipe dead {command} ID) or pass --all")
    verb = "retried" if command == "retry" else "dropped"
    with _dead_letters(command) as letters:
        if ident:
            work_queue, found = _resolve(letters, command, ident, queue)
            key = found[0].key
            done = act(letters, work_queue, lambda letter: letter.key == key)
            targets = [(work_queue, done)]
        else:
            declared = [q for q in letters.queues(queue) if letters.count(q) is not None]
            if not declared:
                _fail(command, _none_declared(letters))
            targets = [(q, act(letters, q, lambda letter: True)) for q in declared]
    for work_queue, done in targets:
        if done.acted or ident:
            where = f"back to {work_queue.name}" if command == "retry" else "for good"
            typer.echo(f"{verb} {len(done.acted)} from {work_queue.dead} {where}")
            note = RETRY_NOTES.get(_short(letters, work_queue)) if command == "retry" else None
            if note and done.acted:
                typer.echo(f"note: {note}")
    if ident and not any(done.acted for _, done in targets):
        _fail(command, f"{ident!r} left the dead-letter queue meanwhile; nothing done", 1)


def _resolve(
    letters: DeadLetters, command: str, ident: str, queue: str | None
) -> tuple[WorkQueue, list[DeadLetter]]:
    """The queue holding ``ident`` and its copies there; one line and exit 1 or 2 otherwise."""
    from libs.common.broker.dead import MIN_PREFIX, matches

    found: list[tuple[WorkQueue, DeadLetter]] = []
    declared = False
    for work_queue in letters.queues(queue):
        done = _list_one(letters, work_queue, None)
        if done is not None:
            declared = True
            found += [(work_queue, letter) for letter in done.seen if matches(letter, ident)]
    if not declared:
        _fail(command, _none_declared(letters))
    keys = {(q.name, letter.key) for q, letter in found}
    if not keys:
        # A short id may be a whole id that was retried or dropped meanwhile: say both.
        short = len(ident) < MIN_PREFIX
        prefix = f"; a start of an id needs {MIN_PREFIX} characters" if short else ""
        _fail(
            command,
            f"{ident!r} is not in any dead-letter queue (any more){prefix}; "
            "mailpipe dead list shows the ids",
            1,
        )
    if len(keys) > 1:
        _fail(command, f"{ident!r} names {len(keys)} messages; give more of the id, or --queue")
    return found[0][0], [letter for _, letter in found]
