"""``BrokerOutbox``: the handler's effects onto the broker, with the agreed routing keys.

ProcessedEmail → ``<ns>.processed`` ``processed.<mailbox>`` (mandatory: the fetcher must get
it); RecordEvent → ``<ns>.events`` ``record.<event>`` (not mandatory: nobody has to follow
records); OutboundEmail → ``<ns>.outbound`` ``outbound.<mailbox>`` (mandatory). Every publish
waits for the broker's confirm. correlation_id: the email's Graph id, the record id, the job id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from libs.common.broker.names import routing_key
from libs.common.contracts import OutboundEmail, ProcessedEmail, RecordEvent

if TYPE_CHECKING:
    from libs.common.broker import Broker


class BrokerOutbox:
    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._names = broker.names

    def processed(self, message: ProcessedEmail) -> None:
        self._broker.publish(
            self._names.processed,
            routing_key("processed", message.mailbox),
            message,
            correlation_id=message.graph_id,
        )

    def event(self, message: RecordEvent) -> None:
        self._broker.publish(
            self._names.events,
            routing_key("record", message.event),
            message,
            correlation_id=f"record:{message.record_id}",
            mandatory=False,
        )

    def outbound(self, message: OutboundEmail) -> None:
        self._broker.publish(
            self._names.outbound,
            routing_key("outbound", message.mailbox),
            message,
            correlation_id=message.job_id,
        )
