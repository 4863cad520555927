"""The routing table: every published contract has one route, and the key of each lands in
the work queue that consumes it (a topic match against the binding keys of ``Names``)."""

from __future__ import annotations

import re
from typing import Any, ClassVar, get_args

import pytest

from libs.common.broker import Names, route, routed
from libs.common.broker.routes import ROUTES
from libs.common.contracts import (
    CURRENT,
    Contract,
    InboundEmail,
    MailboxChanged,
    OutboundEmail,
    OutboundResult,
    ProcessedEmail,
    QuarantinedEmail,
    RecordEvent,
)
from libs.common.contracts.outbound import ResultStatus

NAMES = Names("ns")
BOX = "Support.Desk@Contoso.com"


def sample(contract: type[Contract], **fields: Any) -> Contract:
    """A message with only the given fields (routing reads one), unvalidated."""
    return contract.model_construct(**fields)


#: One message of each contract, with only the fields routing reads.
SAMPLES: list[Contract] = [
    sample(InboundEmail, mailbox=BOX),
    sample(QuarantinedEmail, mailbox=BOX),
    sample(ProcessedEmail, mailbox=BOX),
    sample(OutboundEmail, mailbox=BOX),
    sample(OutboundResult, status="sent"),
    sample(RecordEvent, event="created"),
    sample(MailboxChanged, mailbox=BOX),
]


def topic_match(binding: str, key: str) -> bool:
    """AMQP topic matching: ``*`` is one word, ``#`` zero or more."""
    pattern = ""
    for i, word in enumerate(binding.split(".")):
        dot = r"\." if i else ""
        if word == "#":
            pattern += r"(\..+)?" if i else r"(.+)?"
        elif word == "*":
            pattern += dot + r"[^.]+"
        else:
            pattern += dot + re.escape(word)
    return re.fullmatch(pattern, key) is not None


def consumers(exchange: str, key: str) -> list[str]:
    return [
        q.name
        for q in NAMES.work_queues
        if q.exchange == exchange and topic_match(q.binding_key, key)
    ]


def test_every_contract_has_exactly_one_route() -> None:
    assert set(ROUTES) == set(CURRENT.values()), "previous versions are only read"
    assert {type(m) for m in SAMPLES} == set(CURRENT.values())
    for contract, rule in ROUTES.items():
        assert rule.field in contract.model_fields, contract.__name__


@pytest.mark.parametrize(
    ("message", "exchange", "key", "mandatory", "queue"),
    [
        (SAMPLES[0], "ns.inbound", "email.support.desk@contoso.com", True, "ns.ticketer"),
        (
            SAMPLES[1],
            "ns.inbound",
            "quarantined.support.desk@contoso.com",
            True,
            "ns.ticketer.quarantine",
        ),
        (
            SAMPLES[2],
            "ns.processed",
            "processed.support.desk@contoso.com",
            True,
            "ns.fetcher.processed",
        ),
        (SAMPLES[3], "ns.outbound", "outbound.support.desk@contoso.com", True, "ns.sender"),
        (SAMPLES[4], "ns.events", "outbound.sent", False, "ns.ticketer.results"),
        (SAMPLES[5], "ns.events", "record.created", False, None),
        # Hints go to each fetcher's own queue (not a work queue): no work queue takes them.
        (SAMPLES[6], "ns.events", "changed.support.desk@contoso.com", False, None),
    ],
)
def test_routes_land_in_their_consumer(
    message: Contract, exchange: str, key: str, mandatory: bool, queue: str | None
) -> None:
    where = route(NAMES, message)
    assert (where.exchange, where.routing_key, where.mandatory) == (exchange, key, mandatory)
    # Exactly the one consumer (a mandatory message must reach one); record events have none.
    assert consumers(where.exchange, where.routing_key) == ([queue] if queue else [])


def test_every_result_status_reaches_the_ticketer() -> None:
    for status in get_args(ResultStatus):
        where = route(NAMES, sample(OutboundResult, status=status))
        assert consumers(where.exchange, where.routing_key) == ["ns.ticketer.results"]


def test_routed_carries_the_route_and_correlation_id() -> None:
    pub = routed(NAMES, SAMPLES[4], correlation_id="job-1", headers={"x": 1})
    assert (pub.exchange, pub.routing_key, pub.mandatory) == ("ns.events", "outbound.sent", False)
    assert (pub.message, pub.correlation_id, pub.headers) == (SAMPLES[4], "job-1", {"x": 1})


def test_a_contract_without_a_row_is_refused() -> None:
    class Stray(Contract):
        SCHEMA: ClassVar[str] = "mailpipe.stray.v1"

    with pytest.raises(LookupError, match="no route for Stray"):
        route(NAMES, Stray())


def test_topic_match_itself() -> None:
    assert topic_match("email.#", "email.a.b")
    assert topic_match("email.#", "email")
    assert not topic_match("email.#", "emails.a")
    assert topic_match("outbound.*", "outbound.sent")
    assert not topic_match("outbound.*", "outbound.a.b")


def test_hints_reach_the_fetchers_binding_and_nothing_else() -> None:
    where = route(NAMES, SAMPLES[6])
    assert topic_match(NAMES.hints_binding, where.routing_key)
    assert not topic_match(NAMES.results_binding, where.routing_key)
    assert NAMES.fetcher_hints("abc") == "ns.fetcher.hints.abc"
