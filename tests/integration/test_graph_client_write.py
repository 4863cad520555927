"""Deleting, moving and copying through the simulator, one by one and by $batch."""

from __future__ import annotations

import pytest

from libs.common.graph import GraphNotFound
from libs.graphsim.testing import SimHandle

from .graph_client_helpers import counts, mail_for, seed_many, stats


def test_batch_deletes_45_messages(sim: SimHandle) -> None:
    ids = seed_many(sim, 45)
    with mail_for(sim) as mail:
        outcomes = mail.delete_many(ids)
        assert list(outcomes) == ids
        assert all(o.outcome == "ok" for o in outcomes.values())
        assert mail.list_messages() == []
    folders = counts(sim)["folders"]
    assert folders["inbox"] == 0 and folders["recoverableitemsdeletions"] == 45
    assert stats(sim)["requests"]["POST $batch"] == {"200": 3}


def test_deleting_again_is_reported_as_not_found(sim: SimHandle) -> None:
    ids = seed_many(sim, 3)
    with mail_for(sim) as mail:
        assert mail.delete(ids[0]) is True
        assert mail.delete(ids[0]) is False
        with pytest.raises(GraphNotFound) as info:
            mail.get_message(ids[0])
        assert info.value.status == 404 and info.value.code == "ErrorItemNotFound"
        assert info.value.request_id
        outcomes = mail.delete_many(ids)
    assert outcomes[ids[0]].outcome == "not_found" and outcomes[ids[0]].done
    assert outcomes[ids[1]].outcome == "ok" and outcomes[ids[2]].outcome == "ok"


def test_move_and_copy_into_a_folder_created_on_demand(sim: SimHandle) -> None:
    ids = seed_many(sim, 4)
    with mail_for(sim) as mail:
        moved = mail.move(ids[0], "Processed Tickets")
        assert mail.get_message(moved).subject == "Ticket 0"
        copied = mail.copy(ids[1], "processed tickets")
        assert copied != ids[1]
        outcomes = mail.move_many(ids[2:], "Archive")
        assert all(o.outcome == "ok" and o.body["id"] for o in outcomes.values())
        remaining = mail.list_messages("inbox")
        in_folder = mail.list_messages("Processed Tickets")
    assert {m.subject for m in remaining} == {"Ticket 1"}
    assert sorted(str(m.subject) for m in in_folder) == ["Ticket 0", "Ticket 1"]
    folders = counts(sim)["folders"]
    assert folders["Processed Tickets"] == 2 and folders["archive"] == 2
    assert stats(sim)["requests"]["POST users/{u}/mailFolders"] == {"201": 1}
