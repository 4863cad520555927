"""What to do with a mail once its ``ProcessedEmail`` arrived: a plain decision per mailbox
setting, carried out (batched) by ``services/fetcher/processed.py``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, assert_never

from libs.common.after_processing import AfterProcessing, CopyThenDelete, Delete, Move

StepKind = Literal["delete", "move", "copy_delete", "quarantine"]


@dataclass(frozen=True)
class Step:
    """``delete``; ``move`` to ``folder``; ``copy_delete``: copy to ``folder``, then delete;
    ``quarantine``: move to the quarantine ``folder``."""

    kind: StepKind
    folder: str | None = None


def plan_step(outcome: str, *, action: AfterProcessing, quarantine_folder: str) -> Step:
    """A quarantined mail is moved aside and kept; any other outcome follows the mailbox's
    after-processing action. The match is exhaustive: a new action is a type error here until
    it is handled."""
    if outcome == "quarantined":
        return Step("quarantine", quarantine_folder)
    match action:
        case Delete():
            return Step("delete")
        case Move(folder):
            return Step("move", folder)
        case CopyThenDelete(folder):
            return Step("copy_delete", folder)
        case _:
            assert_never(action)
