"""``BrokerOutbox``: the handler's effects onto the broker, with the agreed routing keys.

ProcessedEmail → ``<ns>.processed`` ``processed.<mailbox>`` (mandatory: the fetcher must get
it); RecordEvent → ``<ns>.events`` ``record.<event>`` (not mandatory: nobody has to follow
records); OutboundEmail → ``<ns>.outbound`` ``outbound.<mailbox>`` (mandatory). A call
publishes its messages pipelined and waits once for all the broker's confirms.
correlation_id: the email's Graph id, the record id, the job id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from libs.common.broker import Publication
from libs.common.broker.names import routing_key
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
            self._broker.publish_many([self._publication(m) for m in messages])

    def _publication(self, message: Effect) -> Publication:
        if isinstance(message, ProcessedEmail):
            return Publication(
                self._names.processed,
                routing_key("processed", message.mailbox),
                message,
                correlation_id=message.graph_id,
            )
        if isinstance(message, RecordEvent):
            return Publication(
                self._names.events,
                routing_key("record", message.event),
                message,
                correlation_id=f"record:{message.record_id}",
                mandatory=False,
            )
        return Publication(
            self._names.outbound,
            routing_key("outbound", message.mailbox),
            message,
            correlation_id=message.job_id,
        )
