"""The one error exit of every ``mailpipe`` command: one line on stderr, exit code 2.

``mailpipe <command>: <what went wrong> (<what to do>)`` — the message and hint of a
:class:`~libs.common.errors.MailpipeError`, or of an outside failure that
:func:`libs.common.startup.explain` knows (a broker or database that is down or refuses, a
bad ``MAILPIPE_*`` variable). Credentials are redacted. Unknown exceptions are bugs and keep
their traceback.

    with error_exit("records list"):
        ...

Imports only typer and the standard library until an error happens, so ``--help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import NoReturn

import typer

#: Every start-up failure and every refused input (the docs promise it).
ERROR_EXIT = 2


def fail(command: str, exc: BaseException | str, code: int = ERROR_EXIT) -> NoReturn:
    """Print ``mailpipe <command>: <message>`` as one line on stderr and exit with ``code``."""
    from libs.common.startup import one_line

    text = exc if isinstance(exc, str) else one_line(exc)
    typer.echo(f"mailpipe {command}: {text}", err=True)
    raise typer.Exit(code) from None


@contextmanager
def error_exit(command: str, given: Mapping[str, str] | None = None) -> Iterator[None]:
    """Turn every known failure inside the block into :func:`fail`.

    ``given`` maps a setting to the option the user gave it with this time
    (``{"MAILPIPE_DATABASE_URL": "--database-url"}``): the line names what the user typed."""
    try:
        yield
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:
        from libs.common.startup import explain, one_line

        error = explain(exc)
        if error is None:
            raise
        text = one_line(error)
        for setting, option in (given or {}).items():
            text = text.replace(setting, option)
        fail(command, text)
