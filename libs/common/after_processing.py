"""What the fetcher does with a mail once the ticketer has processed it: a closed set of typed
actions, parsed once from the mailbox settings (``after_processing``, ``copy_to_folder``).

The rule: **processed mail leaves the watched folder.** The folder then holds only mail not yet
processed, so a full read of it (the first poll, a lost delta link, the embedded mode after a
restart) reads no processed mail twice, and the mailbox does not grow with what is done. Every
action below keeps the rule:

* :class:`Delete`: a soft delete (into Recoverable Items, recoverable by the user or an admin).
* :class:`Move`: moved to ``folder``.
* :class:`CopyThenDelete`: copied to ``folder``, then the original deleted as by :class:`Delete`.

:data:`AfterProcessing` is their union and the fetcher matches it exhaustively
(``assert_never``), so a new action (say, mark-as-read) is a type error until the fetcher and
the doctor handle it. A mark-as-read action would leave mail in the watched folder: it needs a
read filter on the poll first, so that the rule's reason still holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, assert_never

from pydantic import BeforeValidator, PlainSerializer

_VALUE = re.compile(r"^(delete|move:.+)$")


@dataclass(frozen=True)
class Delete:
    """Delete the original: a soft delete."""


@dataclass(frozen=True)
class Move:
    """Move the original to ``folder``."""

    folder: str


@dataclass(frozen=True)
class CopyThenDelete:
    """Copy the original to ``folder``, then delete it."""

    folder: str


#: Every action; the fetcher's match over it is exhaustive.
AfterProcessing = Delete | Move | CopyThenDelete


def parse_after_processing(value: object) -> Delete | Move:
    """``"delete"`` or ``"move:<folder>"`` (the TOML's values) as :class:`Delete` or
    :class:`Move`; a typed value passes as it is."""
    if isinstance(value, Delete | Move):
        return value
    if not isinstance(value, str):
        raise ValueError("Input should be a valid string")  # pydantic's words for a str field
    if not _VALUE.match(value):
        raise ValueError("must be 'delete' or 'move:<folder>'")
    if value.startswith("move:"):
        return Move(value.removeprefix("move:"))
    return Delete()


def after_processing_text(value: Delete | Move) -> str:
    """The TOML's spelling of ``value``, so that a dumped config reads back the same."""
    match value:
        case Delete():
            return "delete"
        case Move(folder):
            return f"move:{folder}"
        case _:
            assert_never(value)


def action_of(after_processing: Delete | Move, copy_to_folder: str | None) -> AfterProcessing:
    """The action of a mailbox: a copy folder wins over a move (the copy is kept, the original
    deleted), so a copy folder makes it :class:`CopyThenDelete`."""
    if copy_to_folder:
        return CopyThenDelete(copy_to_folder)
    return after_processing


#: The ``after_processing`` setting: read from the TOML's string, written back as one.
AfterProcessingSetting = Annotated[
    Delete | Move,
    BeforeValidator(parse_after_processing),
    PlainSerializer(after_processing_text),
]
