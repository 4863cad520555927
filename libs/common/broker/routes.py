"""Where each contract is published: one table from contract type to exchange, routing key and
``mandatory``, used by every publisher (the services and ``mailpipe send``).

============================  =================  ==========================  =========
contract                      exchange           routing key                 mandatory
============================  =================  ==========================  =========
InboundEmail                  ``<ns>.inbound``   ``email.<mailbox>``         yes
QuarantinedEmail              ``<ns>.inbound``   ``quarantined.<mailbox>``   yes
ProcessedEmail                ``<ns>.processed`` ``processed.<mailbox>``     yes
OutboundEmail                 ``<ns>.outbound``  ``outbound.<mailbox>``      yes
OutboundResult                ``<ns>.events``    ``outbound.<status>``       no
RecordEvent                   ``<ns>.events``    ``record.<event>``          no
MailboxChanged                ``<ns>.events``    ``changed.<mailbox>``       no
============================  =================  ==========================  =========

Mandatory: a message no queue takes is an error (:class:`UnroutableError`), since a service
has to get it. Nothing of ours has to follow the events exchange, so publishing there is not
mandatory; a hint no fetcher hears (none runs) is lost and the safety poll covers it. The
work queues' binding keys (:class:`Names`) match these keys; a unit test holds
both together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from libs.common.broker.names import Names, routing_key
from libs.common.contracts import (
    Contract,
    InboundEmail,
    MailboxChanged,
    OutboundEmail,
    OutboundResult,
    ProcessedEmail,
    QuarantinedEmail,
    RecordEvent,
)


@dataclass(frozen=True)
class Rule:
    """How one contract is routed: exchange kind, the key's first word, the field after it."""

    exchange: str
    word: str
    field: str
    mandatory: bool = True


#: Every published contract and its rule: one row each, nowhere else.
ROUTES: Mapping[type[Contract], Rule] = {
    InboundEmail: Rule("inbound", "email", "mailbox"),
    QuarantinedEmail: Rule("inbound", "quarantined", "mailbox"),
    ProcessedEmail: Rule("processed", "processed", "mailbox"),
    OutboundEmail: Rule("outbound", "outbound", "mailbox"),
    OutboundResult: Rule("events", "outbound", "status", mandatory=False),
    RecordEvent: Rule("events", "record", "event", mandatory=False),
    MailboxChanged: Rule("events", "changed", "mailbox", mandatory=False),
}


@dataclass(frozen=True)
class Route:
    """Where one message goes: the exchange's full name, the routing key, ``mandatory``."""

    exchange: str
    routing_key: str
    mandatory: bool


@dataclass(frozen=True)
class Publication:
    """One message for :meth:`Broker.publish_many`."""

    exchange: str
    routing_key: str
    message: Contract
    correlation_id: str
    mandatory: bool = True
    headers: Mapping[str, Any] | None = None


def route(names: Names, message: Contract) -> Route:
    """The route of ``message`` in the namespace of ``names``; a contract without a row is a
    programming error (``LookupError``)."""
    rule = ROUTES.get(type(message))
    if rule is None:
        raise LookupError(f"no route for {type(message).__name__}")
    key = routing_key(rule.word, str(getattr(message, rule.field)))
    return Route(names.exchange(rule.exchange), key, rule.mandatory)


def routed(
    names: Names,
    message: Contract,
    *,
    correlation_id: str,
    headers: Mapping[str, Any] | None = None,
) -> Publication:
    """``message`` as a :class:`Publication` on its route."""
    where = route(names, message)
    return Publication(
        where.exchange, where.routing_key, message, correlation_id, where.mandatory, headers
    )
