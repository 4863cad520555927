"""The health server answers the probes, and readiness reflects its checks."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from prometheus_client import CollectorRegistry, Counter

from libs.common.health import HealthServer


def get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_probes_and_metrics() -> None:
    registry = CollectorRegistry()
    Counter("mailpipe_test_things", "things", registry=registry).inc(3)
    state = {"broker": True}

    def broker() -> tuple[bool, str]:
        return state["broker"], "connected" if state["broker"] else "disconnected"

    def broken() -> tuple[bool, str]:
        raise RuntimeError("boom")

    server = HealthServer(0, {"broker": broker}, host="127.0.0.1", registry=registry).start()
    try:
        assert get(server.port, "/healthz") == (200, b'{"status": "ok"}')
        status, body = get(server.port, "/readyz")
        assert status == 200 and json.loads(body)["checks"]["broker"]["ok"] is True
        state["broker"] = False
        status, body = get(server.port, "/readyz")
        assert status == 503 and json.loads(body)["checks"]["broker"]["detail"] == "disconnected"
        state["broker"] = True
        server.add_check("graph", broken)
        status, body = get(server.port, "/readyz")
        assert status == 503
        assert json.loads(body)["checks"]["graph"]["detail"] == "check failed: RuntimeError"
        status, body = get(server.port, "/metrics")
        assert status == 200 and b"mailpipe_test_things_total 3.0" in body
        assert get(server.port, "/nope")[0] == 404
    finally:
        server.stop()
