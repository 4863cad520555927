"""``BrokerOutbox``: the handler's effects onto the broker, each on its route
(:mod:`libs.common.broker.routes`: ProcessedEmail to ``processed``, RecordEvent to ``events``,
OutboundEmail to ``outbound``). A call publishes its messages pipelined and waits once for all
the broker's confirms. correlation_id: the email's Graph id, the record id, the job id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from libs.common.broker import routed
from libs.common.contracts import ProcessedEmail, RecordEvent
from services.ticketer.ports import Effect

if TYPE_CHECKING:
    from libs.common.broker import Broker


class BrokerOutbox:
    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._names = broker.names

    def publish(self, messages: Sequence[Effect]) -> None:
        """Every message pipelined, one wait for all the confirms."""
        if messages:
            self._broker.publish_many(
                [routed(self._names, m, correlation_id=correlation_id(m)) for m in messages]
            )


def correlation_id(message: Effect) -> str:
    if isinstance(message, ProcessedEmail):
        return message.message_id
    if isinstance(message, RecordEvent):
        return f"record:{message.record_id}"
    return message.job_id
