"""The pipeline's processes for a run: start them (as many of each as asked), wait until they
are ready, and read what they used (peak memory, CPU seconds)."""

from __future__ import annotations

import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from bench.procs import Child, free_port, spawn
from bench.push import PushPlan
from bench.sim import Simulator


def wait_ready(child: Child, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and child.alive:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{child.health_port}/readyz", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{child.name} did not become ready:\n{child.log_tail()}")


def start_services(
    counts: dict[str, int],
    env: dict[str, str],
    logs: Path,
    stack: ExitStack,
    push: PushPlan | None = None,
) -> dict[str, list[Child]]:
    """``counts`` processes of each service (``sender``, ``ticketer``, ``fetcher``), each
    stopped when ``stack`` closes, and with ``push`` one notification endpoint. The fetchers
    go last: the clock starts at the first read, with every consumer (and the endpoint the
    fetchers' subscriptions are validated against) ready."""

    def start(name: str, service: str) -> Child:
        child = spawn(
            name,
            ["-m", f"services.{service}"],
            {**env, "MAILPIPE_HEALTH_PORT": str(free_port())},
            logs,
        )
        stack.callback(child.stop)
        return child

    def group(service: str) -> list[Child]:
        n = counts.get(service, 1)
        return [start(service if n == 1 else f"{service}-{k + 1}", service) for k in range(n)]

    services = {"sender": group("sender"), "ticketer": group("ticketer")}
    if push is not None:
        services["notify"] = [start("notify", "notify")]
    for child in [c for group in services.values() for c in group]:
        wait_ready(child)
    services["fetcher"] = group("fetcher")
    return services


def resources(
    sim: Simulator, services: dict[str, list[Child]], sim_cpu_before: float
) -> tuple[dict[str, float], dict[str, float]]:
    """Peak memory (MB, the largest process of each service) and CPU seconds per service (all
    its processes together); the simulator's CPU since the services started."""
    rss = {name: max((c.peak_rss_mb() or 0.0) for c in group) for name, group in services.items()}
    rss[sim.name] = sim.child.peak_rss_mb() or 0.0
    cpu = {
        name: round(sum((c.cpu_seconds() or 0.0) for c in group), 2)
        for name, group in services.items()
    }
    cpu[sim.name] = (sim.child.cpu_seconds() or 0.0) - sim_cpu_before
    return rss, cpu
