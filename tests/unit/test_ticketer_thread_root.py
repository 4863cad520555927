"""The thread root a record keeps and the lookup by it: two answers of one requester naming a
root the mailbox never received join one record, whatever the provider threads."""

from __future__ import annotations

from typing import Any

from libs.common.contracts import Address, InboundEmail, MailHeaders
from services.ticketer.domain.acknowledgement import AckPolicy
from services.ticketer.domain.decision import Create
from services.ticketer.domain.inbound import facts_from_inbound
from services.ticketer.domain.plan import plan
from services.ticketer.domain.threading import Lookup, record_lookups
from services.ticketer.domain.threadkeys import thread_keys, thread_root
from services.ticketer.domain.verdict import Classification
from tests.unit.inbound_builders import inbound_email

REQUEST = Classification("request", "request")
ACK = AckPolicy(True, ("contoso.com",))


def answer(**headers: Any) -> InboundEmail:
    return inbound_email(headers=MailHeaders(**headers), conversation_id="thread-2")


def test_the_root_is_the_first_reference_else_the_parent() -> None:
    both = answer(in_reply_to="<p@x>", references=["<Root@X> <p@x>"])
    assert thread_root(both) == "<Root@X>"
    assert thread_root(answer(in_reply_to="<p@x> <q@x>")) == "<p@x>"
    assert thread_root(answer(references=["root@x"])) == "<root@x>"
    assert thread_root(answer()) is None


def test_the_root_is_one_of_the_thread_keys() -> None:
    mail = answer(in_reply_to="<p@x>", references=["<root@x> <p@x>"])
    root = thread_root(mail)
    assert root is not None
    assert f"{mail.mailbox} {root}" in thread_keys(mail)


def test_a_new_request_keeps_the_root_of_the_thread_it_answers() -> None:
    mail = answer(in_reply_to="<earlier@x>", references=["<root@x> <earlier@x>"])
    decision = plan(mail, REQUEST, None, ACK)
    assert decision.action == Create("<root@x>")
    assert plan(inbound_email(), REQUEST, None, ACK).action == Create(None)


def test_the_root_is_looked_up_after_the_conversation_and_for_the_sender() -> None:
    mail = answer(in_reply_to="<other@x>", references=["<root@x> <other@x>"])
    found = record_lookups(mail, facts_from_inbound(mail), REQUEST, "[#{id}]")
    kinds = [lookup.by for lookup in found]
    assert kinds.index("conversation") < kinds.index("thread_root") < kinds.index("answered_by")
    root = found[kinds.index("thread_root")]
    assert root == Lookup("thread_root", ids=("<root@x>",), requester="ann@customer.example")


def test_a_mail_without_a_root_or_a_sender_is_not_looked_up_by_root() -> None:
    bare = inbound_email(conversation_id="c")
    assert all(
        x.by != "thread_root"
        for x in record_lookups(bare, facts_from_inbound(bare), REQUEST, "[#{id}]")
    )
    nobody = answer(references=["<root@x>"]).model_copy(update={"from_": None, "sender": None})
    facts = facts_from_inbound(nobody)
    assert all(x.by != "thread_root" for x in record_lookups(nobody, facts, REQUEST, "[#{id}]"))


def test_the_sender_names_the_requester_when_there_is_no_from() -> None:
    mail = answer(references=["<root@x>"]).model_copy(
        update={"from_": None, "sender": Address(address="bob@customer.example")}
    )
    found = record_lookups(mail, facts_from_inbound(mail), REQUEST, "[#{id}]")
    assert Lookup("thread_root", ids=("<root@x>",), requester="bob@customer.example") in found
