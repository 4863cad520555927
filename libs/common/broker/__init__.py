"""The broker layer: topology names, declaration, confirmed publishing, the consumer loop.

``from libs.common.broker import Broker, Delivery, Names`` … The kombu-based parts and the
routing table (:mod:`~libs.common.broker.routes`) load on first use, so that importing the
names (as domain code and the schema export do) pulls in no broker client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from libs.common.broker.names import DELIVERY_LIMIT, RETRY_DELAYS_S, Names, WorkQueue, routing_key
from libs.common.broker.policy import Delivery

if TYPE_CHECKING:
    from libs.common.broker.broker import Broker, install_signal_handlers
    from libs.common.broker.lease import mailbox_leases
    from libs.common.broker.routes import Publication, Route, route, routed

#: Loaded on first use, by module: the broker client (kombu), and the routes (the contracts).
_LAZY = {
    "Broker": "broker",
    "install_signal_handlers": "broker",
    "mailbox_leases": "lease",
    "Publication": "routes",
    "Route": "routes",
    "route": "routes",
    "routed": "routes",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f"{__name__}.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DELIVERY_LIMIT",
    "RETRY_DELAYS_S",
    "Broker",
    "Delivery",
    "Names",
    "Publication",
    "Route",
    "WorkQueue",
    "install_signal_handlers",
    "mailbox_leases",
    "route",
    "routed",
    "routing_key",
]
