"""A tiny local HTTP endpoint for Graph change notifications, for tests against the simulator.

It answers validation requests (echoing the token, or not when told to fail), records every
notification POST per path, and can answer the next N notification POSTs with an error.
Tests wait on what it received (:meth:`Receiver.wait_items`), never on time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

WAIT_S = 20.0


@dataclass
class Receiver:
    base_url: str
    #: Validation: "echo" answers as Graph requires; "wrong" echoes another text; an int is
    #: the status to answer with.
    validation: str | int = "echo"
    #: The next N notification POSTs are answered with ``fail_status``.
    fail_next: int = 0
    fail_status: int = 503
    validations: list[dict[str, Any]] = field(default_factory=list)
    #: (path, the POST's JSON body) per notification POST, in arrival order.
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failed_posts: int = 0
    #: When set, notification POSTs are recorded at once but answered only once it is set.
    hold: threading.Event | None = None
    #: Called before a validation request is answered (e.g. to call the simulator back).
    on_validation: Callable[[], None] | None = None
    cond: threading.Condition = field(default_factory=threading.Condition)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def items(self, path: str = "/notify") -> list[dict[str, Any]]:
        with self.cond:
            return [item for p, body in self.posts if p == path for item in body["value"]]

    def wait_items(self, count: int, path: str = "/notify") -> list[dict[str, Any]]:
        """At least ``count`` notifications at ``path``; fails the test after WAIT_S."""
        with self.cond:
            ok = self.cond.wait_for(lambda: len(self.items(path)) >= count, WAIT_S)
        found = self.items(path)
        assert ok, f"expected {count} notifications at {path}, got {len(found)}"
        return found


def _handler(rec: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet test output

        def _answer(self, status: int, body: bytes = b"", ctype: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            token = parse_qs(url.query).get("validationToken")
            with rec.cond:
                if token:
                    rec.validations.append(
                        {"path": url.path, "token": token[0], "body": raw,
                         "content_type": self.headers.get("Content-Type")}
                    )  # fmt: skip
                    rec.cond.notify_all()
                    mode = rec.validation
                elif rec.fail_next > 0:
                    rec.fail_next -= 1
                    rec.failed_posts += 1
                    mode = rec.fail_status
                else:
                    rec.posts.append((url.path, json.loads(raw)))
                    rec.cond.notify_all()
                    mode = 202
            if token and rec.on_validation is not None:
                rec.on_validation()
            if not token and rec.hold is not None:
                rec.hold.wait(WAIT_S)
            if token and mode == "echo":
                self._answer(200, token[0].encode())
            elif token and mode == "wrong":
                self._answer(200, b"not the token")
            else:
                self._answer(int(mode))

    return Handler


@contextmanager
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rec := Receiver("")))
    rec.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="notify-receiver")
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
