"""What to do with a mail once its ``ProcessedEmail`` arrived: a plain decision per mailbox
setting, carried out (batched) by ``services/fetcher/processed.py``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

StepKind = Literal["delete", "move", "copy_delete", "quarantine"]


@dataclass(frozen=True)
class Step:
    """``delete``; ``move`` to ``folder``; ``copy_delete``: copy to ``folder``, then delete;
    ``quarantine``: move to the quarantine ``folder``."""

    kind: StepKind
    folder: str | None = None


def plan_step(
    outcome: str,
    *,
    move_to_folder: str | None,
    copy_to_folder: str | None,
    quarantine_folder: str,
) -> Step:
    """A quarantined mail is moved aside and kept; any other outcome follows the mailbox's
    ``after_processing`` / ``copy_to_folder`` settings (a copy wins over a move: the copy is
    kept and the original goes to Recoverable Items)."""
    if outcome == "quarantined":
        return Step("quarantine", quarantine_folder)
    if copy_to_folder:
        return Step("copy_delete", copy_to_folder)
    if move_to_folder:
        return Step("move", move_to_folder)
    return Step("delete")
