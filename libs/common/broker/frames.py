"""A pipelined batch of publishes put on the wire (:meth:`Outlet.send_many`).

py-amqp's ``_basic_publish`` does two things per message besides writing its frames: a
non-blocking read, to notice a ``connection.blocked`` from the broker (a memory or disk
alarm), and a socket-timeout guard. For a batch they are done once here, then each message
is written exactly as ``_basic_publish`` writes it (``basic.publish`` with its content):
the per-message read was a tenth of what publishing costs the fetcher and the ticketer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import Any

from amqp import spec
from amqp.exceptions import RecoverableConnectionError

#: basic.publish's arguments: ticket, exchange, routing key, mandatory, immediate.
_PUBLISH_ARGS = "Bssbb"


def write_publishes(
    channel: Any, messages: Iterable[tuple[Any, str, str, bool]], sent: Callable[[], None]
) -> None:
    """Write every ``(message, exchange, routing_key, mandatory)`` on ``channel`` (a py-amqp
    channel in confirm mode), calling ``sent`` after each; the confirms are the caller's."""
    connection = channel.connection
    if not connection:
        raise RecoverableConnectionError("basic_publish: connection closed")
    capabilities = connection.client_properties.get("capabilities", {})
    if capabilities.get("connection.blocked", False):
        with contextlib.suppress(TimeoutError):  # socket.timeout: nothing has come
            connection.drain_events(timeout=0)  # a blocked notice, if the broker sent one
    try:
        for message, exchange, routing_key, mandatory in messages:
            channel.send_method(
                spec.Basic.Publish,
                _PUBLISH_ARGS,
                (0, exchange, routing_key, mandatory, False),
                message,
            )
            sent()
    except TimeoutError:
        # As py-amqp: a write timeout means the socket is dead, a connection error.
        raise RecoverableConnectionError("basic_publish: timed out") from None
