"""``/metrics`` (Prometheus), ``/healthz`` (the process is alive) and ``/readyz`` (it can work).

A tiny threaded HTTP server from the standard library: the services have no web framework and
the probes must answer even while a handler is busy.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

log = structlog.get_logger(__name__)

#: A readiness check returns ``(ok, detail)``; it must be quick and must not raise.
Check = Callable[[], tuple[bool, str]]


def run_checks(checks: Mapping[str, Check]) -> tuple[bool, dict[str, dict[str, object]]]:
    results: dict[str, dict[str, object]] = {}
    for name, check in list(checks.items()):  # a check may be added meanwhile
        try:
            ok, detail = check()
        except Exception as exc:  # a broken check means "not ready", never a crashed server
            ok, detail = False, f"check failed: {exc.__class__.__name__}"
        results[name] = {"ok": ok, "detail": detail}
    return all(r["ok"] for r in results.values()), results


class HealthServer:
    """Serves the probes on ``host:port`` from a daemon thread. ``port=0`` picks a free port."""

    def __init__(
        self,
        port: int,
        checks: Mapping[str, Check] | None = None,
        *,
        host: str = "0.0.0.0",
        registry: CollectorRegistry = REGISTRY,
    ) -> None:
        self._checks = dict(checks or {})
        self._registry = registry
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="health", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def add_check(self, name: str, check: Check) -> None:
        self._checks[name] = check

    def start(self) -> HealthServer:
        self._thread.start()
        log.info("health server listening", port=self.port)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/metrics":
                    self._send(200, generate_latest(outer._registry), CONTENT_TYPE_LATEST)
                elif self.path == "/healthz":
                    self._json(200, {"status": "ok"})
                elif self.path == "/readyz":
                    ok, results = run_checks(outer._checks)
                    self._json(200 if ok else 503, {"ready": ok, "checks": results})
                else:
                    self._json(404, {"error": "not found"})

            def _json(self, status: int, body: object) -> None:
                self._send(status, json.dumps(body).encode(), "application/json")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # probes every few seconds would drown the real logs

        return Handler
