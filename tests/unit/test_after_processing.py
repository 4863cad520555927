"""The after-processing action: parsed once by the settings from exactly the values the TOML
accepted before (same messages for bad ones), and handled by the fetcher for every action."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from libs.common.after_processing import (
    AfterProcessing,
    CopyThenDelete,
    Delete,
    Move,
    action_of,
    parse_after_processing,
)
from libs.common.errors import ConfigError
from libs.common.settings import MailboxConfig, load_config
from services.fetcher.domain import Step, plan_step

BOX = """[[mailboxes]]
address = "support@contoso.com"
tenant_id = "t"
client_id = "c"
client_secret = "s"
"""


def box_with(tmp_path: Path, lines: str) -> MailboxConfig:
    path = tmp_path / "mailpipe.toml"
    path.write_text(BOX + lines, encoding="utf-8")
    return load_config(path).mailboxes[0]


@pytest.mark.parametrize(
    ("lines", "action"),
    [
        ("", Delete()),
        ('after_processing = "delete"\n', Delete()),
        ('after_processing = "move:Done"\n', Move("Done")),
        ('after_processing = "move:a:b"\n', Move("a:b")),
        ('copy_to_folder = "Kept"\n', CopyThenDelete("Kept")),
        ('after_processing = "move:Done"\ncopy_to_folder = "Kept"\n', CopyThenDelete("Kept")),
    ],
)
def test_the_toml_values_become_one_typed_action(
    tmp_path: Path, lines: str, action: AfterProcessing
) -> None:
    assert box_with(tmp_path, lines).after_processing_action == action


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"shred"', "must be 'delete' or 'move:<folder>'"),
        ('"move:"', "must be 'delete' or 'move:<folder>'"),
        ('"Delete"', "must be 'delete' or 'move:<folder>'"),
        ("5", "Input should be a valid string"),
        ('["delete"]', "Input should be a valid string"),
    ],
)
def test_bad_values_keep_their_messages(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        box_with(tmp_path, f"after_processing = {value}\n")
    assert str(info.value).endswith(f"mailboxes[0].after_processing: {message}")


@pytest.mark.parametrize("value", ["delete", "move:Done"])
def test_a_dumped_mailbox_reads_back_the_same(tmp_path: Path, value: str) -> None:
    box = box_with(tmp_path, f'after_processing = "{value}"\n')
    assert box.model_dump()["after_processing"] == value
    assert MailboxConfig.model_validate(box.model_dump()) == box


def test_a_typed_value_passes_as_it_is() -> None:
    assert parse_after_processing(Move("x")) == Move("x")
    assert parse_after_processing("delete") == Delete()
    assert action_of(Delete(), None) == Delete() and action_of(Move("m"), "") == Move("m")


@pytest.mark.parametrize(
    ("action", "step"),
    [
        (Delete(), Step("delete")),
        (Move("Done"), Step("move", "Done")),
        (CopyThenDelete("Kept"), Step("copy_delete", "Kept")),
    ],
)
def test_the_fetcher_has_a_step_for_every_action(action: AfterProcessing, step: Step) -> None:
    assert plan_step("created", action=action, quarantine_folder="q") == step
    # Quarantined mail is moved aside whatever the action.
    assert plan_step("quarantined", action=action, quarantine_folder="q") == Step("quarantine", "q")


def test_every_action_is_covered_above() -> None:
    assert set(get_args(AfterProcessing)) == {Delete, Move, CopyThenDelete}
