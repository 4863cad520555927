"""Wiring of the notification endpoint (``mailpipe notify``, docs/push.md): uvicorn serving
:func:`services.notify.endpoint.build_app` on a loop of its own, the subscriptions read from the
shared database, the hints published on the broker. ``mailpipe run`` wires it beside the
pipeline when ``[push]`` is configured."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial

import structlog
import uvicorn

from libs.common.contracts import MailboxChanged
from libs.common.db.push_subscriptions import PushSubscriptionStore
from libs.common.errors import PermanentError
from libs.common.service import Runtime, Wiring, run_service
from services.notify.config import NotifySettings
from services.notify.endpoint import Endpoint, build_app

log = structlog.get_logger("services.notify")


class CannotListen(PermanentError):
    """The endpoint's address is taken or not allowed."""

    code = "cannot_listen"


#: How long a stopping endpoint waits for requests in flight.
STOP_TIMEOUT_S = 5.0


def wire(runtime: Runtime) -> Wiring:
    own = NotifySettings()
    store = PushSubscriptionStore.open(runtime.settings.database_url.get_secret_value())
    broker = runtime.broker

    def publish(hint: MailboxChanged) -> None:
        broker.publish_routed(hint, correlation_id=hint.subscription_id or hint.mailbox)

    endpoint = Endpoint(store.find, publish)
    config = uvicorn.Config(
        build_app(endpoint),
        host=own.host,
        port=own.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=own.forwarded_allow_ips,
    )
    server = uvicorn.Server(config)
    thread = _listen(server, f"{own.host}:{own.port}", store.close)

    def serve(stop: threading.Event) -> None:
        while not stop.wait(0.5) and thread.is_alive():
            pass
        if not stop.is_set():  # the server ended on its own: the service must not stay up deaf
            log.error("notification endpoint stopped unexpectedly; stopping the service")
            stop.set()
        server.should_exit = True
        thread.join(timeout=STOP_TIMEOUT_S)
        # A hint deferred to the end of its second goes out before the process may exit.
        endpoint.settle(STOP_TIMEOUT_S)
        endpoint.close(STOP_TIMEOUT_S)

    def ready() -> tuple[bool, str]:
        return (server.started, "listening" if server.started else "not listening yet")

    return Wiring([("notify", partial(serve, runtime.stop))], {"endpoint": ready}, store.close)


def _listen(server: uvicorn.Server, where: str, close: Callable[[], None]) -> threading.Thread:
    """Serve on a thread once the address is had: a taken or forbidden one fails the start
    with one line (:class:`CannotListen`) instead of a service that runs without its port."""
    thread = threading.Thread(target=server.run, name="notify-http", daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.05)
    if not server.started:
        close()
        raise CannotListen(
            f"the notification endpoint cannot listen on {where}",
            hint="pick another MAILPIPE_NOTIFY_PORT (or _HOST), or stop what uses it",
        )
    log.info("notification endpoint listening", where=where)
    return thread


def main() -> int:
    return run_service("notify", wire)
