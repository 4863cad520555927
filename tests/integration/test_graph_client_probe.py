"""MailboxProbe against the simulator: read-only lookups and a draft that leaves no trace."""

from __future__ import annotations

from libs.common.graph.probe import MailboxProbe
from libs.common.setup_check.steps import token_roles
from libs.graphsim.testing import SimHandle

from .graph_client_helpers import BOX, control_json, rfc822, seed


def probe_for(sim: SimHandle) -> MailboxProbe:
    config = sim.config()
    return MailboxProbe(config.graph, config.mailbox(BOX))


def test_fresh_token_asks_the_authority_each_time(sim: SimHandle) -> None:
    with probe_for(sim) as probe:
        first, second = probe.fresh_token(), probe.fresh_token()
    assert first != second
    assert token_roles(second) == {"Mail.ReadWrite", "Mail.Send", "User.Read.All"}


def test_first_message_id_and_find_folder_never_create_anything(sim: SimHandle) -> None:
    with probe_for(sim) as probe:
        assert probe.first_message_id("inbox") is None
        seed(sim, rfc822("one")[0])
        seed(sim, rfc822("two")[0])
        assert probe.first_message_id("inbox")
        assert probe.find_folder("Escalations") is None
        assert probe.find_folder("inbox") == "inbox"
        seed(sim, rfc822("three")[0], folder="Escalations")
        assert probe.find_folder("escalations")
    folders = control_json(sim, "GET", f"/_sim/mailboxes/{BOX}")["folders"]
    assert folders["Escalations"] == 1
    assert folders["inbox"] == 2


def test_a_draft_with_a_from_is_created_and_purged_without_trace(sim: SimHandle) -> None:
    with probe_for(sim) as probe:
        draft = probe.create_draft(
            {"subject": "probe", "from": {"emailAddress": {"address": "agent@contoso.com"}}}
        )
        assert control_json(sim, "GET", f"/_sim/mailboxes/{BOX}")["folders"]["drafts"] == 1
        assert probe.permanent_delete(draft) is True
        assert probe.permanent_delete(draft) is False
    state = control_json(sim, "GET", f"/_sim/mailboxes/{BOX}")
    assert state["folders"]["drafts"] == 0
    assert state["folders"]["recoverableitemsdeletions"] == 0
    assert state["sent"] == 0
