"""``plan``: classified mail and the record the store found → a Decision, without servers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from libs.common.contracts import Address, InboundEmail
from services.ticketer.domain.acknowledgement import AckPolicy, ack_intent
from services.ticketer.domain.decision import (
    NO_ACK,
    AckIntent,
    Append,
    Create,
    Decision,
    Ignore,
    ack_from_stored,
    stored_ack,
)
from services.ticketer.domain.facts import MailFacts
from services.ticketer.domain.plan import plan
from services.ticketer.domain.threading import Lookup, record_lookups, thread_ids
from services.ticketer.domain.verdict import Classification
from tests.unit.inbound_builders import inbound_email

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
BOX = "help@contoso.com"
REQUEST = Classification("request", "request")
ACK = AckPolicy(True, ("contoso.com",))
OFF = AckPolicy(False, ("contoso.com",))


def email(**fields: Any) -> InboundEmail:
    return inbound_email(**{"conversation_id": "conv-1", **fields})


def test_thread_ids_in_reply_to_first_then_references_newest_first() -> None:
    facts = MailFacts(in_reply_to=("<c@x>",), references=("<a@x>", "<b@x>", "<c@x>"))
    assert thread_ids(facts) == ["<c@x>", "<b@x>", "<a@x>"]


def test_a_request_is_looked_up_by_token_then_message_ids_then_conversation() -> None:
    facts = MailFacts(in_reply_to=("<p@x>",), references=("<r@x>",))
    found = record_lookups(email(subject="Re: [#7] Printer"), facts, REQUEST, "[#{id}]")
    assert found == (
        Lookup("token", record_id=7),
        Lookup("message_ids", ids=("<p@x>", "<r@x>")),
        Lookup("conversation", ids=("conv-1",)),
    )
    bare = email(conversation_id=None)
    assert record_lookups(bare, MailFacts(), REQUEST, "[#{id}]") == ()


def test_a_request_is_looked_up_last_among_the_answers_to_it() -> None:
    """A reply handled first started a record: the request it answers joins that record."""
    facts = MailFacts(message_id="<r@x>")
    found = record_lookups(email(conversation_id=None), facts, REQUEST, "[#{id}]")
    assert found == (Lookup("answered_by", ids=("<r@x>",)),)
    with_all = MailFacts(message_id="<r@x>", in_reply_to=("<p@x>",))
    assert record_lookups(email(), with_all, REQUEST, "[#{id}]")[-1] == Lookup(
        "answered_by", ids=("<r@x>",)
    )


def test_a_bounce_is_looked_up_by_its_returned_message_and_ignored_mail_nowhere() -> None:
    bounce = Classification("bounce", "dsn:5.1.1", original_message_id="<ours@x>")
    assert record_lookups(email(), MailFacts(), bounce, "[#{id}]") == (
        Lookup("returned_message", ids=("<ours@x>",)),
    )
    loop = Classification("loop", "from_self")
    assert record_lookups(email(subject="[#7]"), MailFacts(), loop, "[#{id}]") == ()


def test_a_new_request_creates_a_record_and_acknowledges_it() -> None:
    decision = plan(email(), REQUEST, None, ACK)
    assert decision == Decision(Create(None), REQUEST, "new_request", AckIntent("acknowledge"))


def test_a_reply_appends_reopening_and_is_never_acknowledged() -> None:
    decision = plan(email(), REQUEST, 4, ACK)
    assert decision == Decision(
        Append(4, "reply", reopen=True, strip_quotes=True), REQUEST, "reply"
    )
    assert decision.ack == NO_ACK


@pytest.mark.parametrize(
    ("verdict", "kind", "unmatched"),
    [
        (Classification("auto_reply", "oof"), "auto_reply", "auto_reply"),
        (Classification("bounce", "dsn:5.1.1"), "delivery_failure", "bounce_unmatched"),
    ],
)
def test_auto_replies_and_bounces_are_notes_or_ignored(
    verdict: Classification, kind: str, unmatched: str
) -> None:
    decision = plan(email(), verdict, 4, ACK)
    assert decision.action == Append(4, kind, reopen=False)  # type: ignore[arg-type]
    assert (decision.change, decision.ack) == (kind, NO_ACK)
    assert plan(email(), verdict, None, ACK) == Decision(Ignore(unmatched), verdict)


def test_everything_else_is_ignored_with_its_kind_and_rule() -> None:
    verdict = Classification("feedback", "arf:abuse")
    assert plan(email(), verdict, 4, ACK) == Decision(Ignore("feedback:arf:abuse"), verdict)


def test_acknowledgement_intent() -> None:
    suppressed = Classification("request", "request", suppress_autoreply=True)
    assert ack_intent(email(), REQUEST, OFF) == NO_ACK
    assert ack_intent(email(), suppressed, ACK) == NO_ACK
    assert ack_intent(email(), REQUEST, ACK) == AckIntent("acknowledge")
    colleague = email(**{"from": Address(address="bob@contoso.com")})
    assert ack_intent(colleague, REQUEST, ACK).reason == "own_domain"
    assert ack_intent(email(**{"from": None}), REQUEST, ACK) == AckIntent("refused", "no_from")
    answers_colleagues = AckPolicy(True, ("contoso.com",), "contoso.com", (BOX,))
    assert ack_intent(colleague, REQUEST, answers_colleagues) == AckIntent("acknowledge")


@pytest.mark.parametrize(
    "intent",
    [NO_ACK, AckIntent("acknowledge"), AckIntent("refused", "lookalike", "contoso.com: x:y")],
)
def test_the_stored_intent_reads_back_as_decided(intent: AckIntent) -> None:
    assert ack_from_stored(stored_ack(intent)) == intent


def test_a_row_stored_before_intents_has_none() -> None:
    assert ack_from_stored(None) is None
