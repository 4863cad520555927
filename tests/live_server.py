"""An ASGI app served by uvicorn on a thread and a free loopback port, for what Starlette's
TestClient cannot drive: it waits for a response to finish, and a live stream does not."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

#: The longest a test waits for a server to start or an event to come.
PATIENCE_S = 20.0


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """``app`` served until the block ends; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + PATIENCE_S
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=PATIENCE_S)
        sock.close()


@dataclass(frozen=True)
class Event:
    name: str
    data: dict[str, Any]
    ident: str


class Events:
    """The Server-Sent Events of one open response, read as they come."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.iter_lines()
        self.retry: list[int] = []

    def next(self) -> Event | None:
        """The next event; ``None`` when the stream ended first."""
        name, data, ident = "message", "", ""
        deadline = time.monotonic() + PATIENCE_S
        for line in self._lines:
            assert time.monotonic() < deadline, "no event came"
            if line.startswith("retry: "):
                self.retry.append(int(line[7:]))
            elif line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data += line[6:]
            elif line.startswith("id: "):
                ident = line[4:]
            elif line == "" and data:
                return Event(name, json.loads(data), ident)
        return None

    def until(self, name: str) -> Event:
        """The next event called ``name`` (others on the way are skipped)."""
        while (found := self.next()) is not None:
            if found.name == name:
                return found
        raise AssertionError(f"the stream ended without a {name!r} event")

    def rest(self) -> list[Event]:
        """Every event until the stream ends."""
        out = []
        while (found := self.next()) is not None:
            out.append(found)
        return out
