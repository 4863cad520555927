"""The broker layer: topology names, declaration, confirmed publishing, the consumer loop.

``from libs.common.broker import Broker, Delivery, Names`` … The kombu-based parts load on
first use, so that importing the names (as domain code and the schema export do) pulls in no
broker client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from libs.common.broker.names import DELIVERY_LIMIT, RETRY_DELAYS_S, Names, WorkQueue, routing_key
from libs.common.broker.policy import Delivery

if TYPE_CHECKING:
    from libs.common.broker.broker import Broker, Publication, install_signal_handlers

_LAZY = {"Broker", "Publication", "install_signal_handlers"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from libs.common.broker import broker

        return getattr(broker, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DELIVERY_LIMIT",
    "RETRY_DELAYS_S",
    "Broker",
    "Delivery",
    "Names",
    "Publication",
    "WorkQueue",
    "install_signal_handlers",
    "routing_key",
]
