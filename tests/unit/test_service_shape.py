"""One composition shape for every service (libs/common/service.py): ``main()`` is
``run_service(name, wire)``; ``wire_service`` gives the loops the service's log context; one
database readiness check."""

from __future__ import annotations

import importlib
import threading
from typing import Any, cast

import pytest
import structlog

from libs.common.service import Runtime, Wiring, database_check, wire_service


def service_of_context() -> Any:
    return structlog.contextvars.get_contextvars().get("service")


def test_wire_service_binds_the_name_for_wire_and_for_every_loop() -> None:
    structlog.contextvars.bind_contextvars(service="caller")
    seen: dict[str, Any] = {}
    barrier = threading.Barrier(2, timeout=5)

    def loop(label: str) -> None:
        barrier.wait()  # both loops inside their contexts at once: each has its own copy
        seen[label] = service_of_context()

    def wire(runtime: Runtime) -> Wiring:
        seen["wire"] = service_of_context()
        return Wiring([("a", lambda: loop("a")), ("b", lambda: loop("b"))])

    try:
        wiring = wire_service("sender", wire, cast(Runtime, object()))
        assert service_of_context() == "caller"  # the caller's context is left as it was
        threads = [threading.Thread(target=fn, name=name) for name, fn in wiring.loops]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(5)
    finally:
        structlog.contextvars.clear_contextvars()
    assert seen == {"wire": "sender", "a": "sender", "b": "sender"}
    assert [name for name, _ in wiring.loops] == ["a", "b"]


def test_wire_service_keeps_checks_and_close() -> None:
    closed: list[bool] = []
    checks = {"x": lambda: (True, "ok")}
    wiring = wire_service(
        "fetcher", lambda runtime: Wiring([], checks, lambda: closed.append(True)), cast(Any, None)
    )
    wiring.close()
    assert wiring.checks == checks and closed == [True]


def test_database_check_answers_and_never_raises() -> None:
    assert database_check(lambda: None)() == (True, "connected")

    def down() -> None:
        raise ConnectionError("refused")

    assert database_check(down)() == (False, "database unavailable: ConnectionError")


@pytest.mark.parametrize("service", ["fetcher", "ticketer", "sender"])
def test_every_service_main_is_run_service_with_its_name(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = importlib.import_module(f"services.{service}.app")
    calls: list[tuple[str, Any]] = []

    def run_service(name: str, wire: Any) -> int:
        calls.append((name, wire))
        return 0

    monkeypatch.setattr(module, "run_service", run_service)
    assert module.main() == 0
    assert calls == [(service, module.wire)]
