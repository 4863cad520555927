"""The console's metrics on a port of their own (``MAILPIPE_HEALTH_PORT`` of ``mailpipe web``),
never on the console's, which agents reach."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from services.web.app import CannotListen, WebServer
from services.web.changes import UNPUBLISHED
from services.web.config import WebSettings
from tests.web_rig import Console, open_console


@pytest.fixture
def console(database_url: str) -> Iterator[Console]:
    yield from open_console(database_url)


def test_metrics_and_probes_are_served_on_their_own_port(console: Console) -> None:
    UNPUBLISHED.labels(change="status")  # a series of the console's own
    server = WebServer(console.accounts, WebSettings(), "127.0.0.1", 0, metrics_port=0).start()
    try:
        assert server.metrics is not None
        base = f"http://127.0.0.1:{server.metrics.port}"
        metrics = httpx.get(f"{base}/metrics")
        assert metrics.status_code == 200
        assert 'mailpipe_console_events_unpublished_total{change="status"}' in metrics.text
        ready = httpx.get(f"{base}/readyz").json()
        assert ready["ready"] is True and "database" in ready["checks"]
        console_port = server.server.servers[0].sockets[0].getsockname()[1]
        assert httpx.get(f"http://127.0.0.1:{console_port}/metrics").status_code == 404
    finally:
        server.stop()


def test_no_metrics_port_serves_none(console: Console) -> None:
    server = WebServer(console.accounts, WebSettings(), "127.0.0.1", 0).start()
    try:
        assert server.metrics is None
    finally:
        server.stop()


def test_a_taken_metrics_port_is_a_clear_error_and_the_console_stops(console: Console) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = WebServer(console.accounts, WebSettings(), "127.0.0.1", 0, metrics_port=port)
        with pytest.raises(CannotListen, match="MAILPIPE_HEALTH_PORT") as raised:
            server.start()
    assert raised.value.hint is not None and "MAILPIPE_HEALTH_PORT" in raised.value.hint
    assert not server.thread.is_alive()
