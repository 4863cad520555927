"""The Graph simulator as its own process (``mailpipe graphsim --port 0``) and the control API
calls the benchmark makes: seed in parallel, raise the request budget, read counts, stats and
each mailbox's timeline."""

from __future__ import annotations

import json
import time
import tomllib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.corpus import BenchMail
from bench.procs import Child, clean_env, spawn

#: Parallel seeding requests: the simulator parses each mail under one lock, so more than a
#: few only queue; a few hide the HTTP round trips.
SEED_WORKERS = 6

#: Budget knobs so the simulator never throttles on volume: only the pipeline is measured.
#: Concurrency stays at Exchange's 4 per mailbox, which the services must respect anyway.
UNLIMITED_BUDGET = {"mailbox_budget": 10_000_000, "budget_window_s": 600.0}


@dataclass
class Simulator:
    child: Child
    root_url: str
    ca_bundle: Path
    config_path: Path
    #: The written config's [graph] (or [google]) table and mailbox entries (credentials).
    config: dict[str, Any]
    #: The simulator's name in the report (its process's memory and CPU).
    name: str = "graphsim"
    #: The provider's table in the config.
    table: str = "graph"

    def client(self, timeout_s: float = 60.0) -> httpx.Client:
        return httpx.Client(base_url=self.root_url, verify=str(self.ca_bundle), timeout=timeout_s)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        with self.client() as c:
            answer = c.request(method, path, **kwargs)
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def faults(self, **knobs: Any) -> dict[str, Any]:
        return dict(self.call("POST", "/_sim/faults", json=knobs))

    def stats(self) -> dict[str, Any]:
        return dict(self.call("GET", "/_sim/stats"))

    def folders(self, mailbox: str) -> dict[str, int]:
        return dict(self.call("GET", f"/_sim/mailboxes/{mailbox}")["folders"])

    def events(self, mailbox: str) -> list[dict[str, Any]]:
        return list(self.call("GET", f"/_sim/mailboxes/{mailbox}/events"))

    def post(self, client: httpx.Client, box: str, mail: BenchMail) -> tuple[str, str, str]:
        """One mail into ``box``'s inbox: (mailbox, graph id, Message-ID)."""
        r = client.post(
            f"/_sim/mailboxes/{box}/messages",
            content=mail.raw,
            headers={"Content-Type": "message/rfc822"},
        )
        r.raise_for_status()
        return box, str(r.json()["id"]), mail.message_id

    def sent(self, mailbox: str) -> list[dict[str, Any]]:
        return list(self.call("GET", f"/_sim/mailboxes/{mailbox}/sent"))

    def seed(
        self, mails: list[tuple[str, BenchMail]], progress: Callable[[int], None]
    ) -> list[tuple[str, str, str]]:
        """Seed every mail into its mailbox's inbox; (mailbox, graph id, Message-ID) each."""
        done = 0
        with self.client() as c:

            def one(item: tuple[str, BenchMail]) -> tuple[str, str, str]:
                return self.post(c, *item)

            out = []
            with ThreadPoolExecutor(SEED_WORKERS) as pool:
                for result in pool.map(one, mails):
                    out.append(result)
                    done += 1
                    if done % 1000 == 0:
                        progress(done)
        return out


def start_simulator(
    work: Path,
    mailboxes: list[str],
    timeout_s: float = 60.0,
    *,
    allow_http_notifications: bool = False,
) -> Simulator:
    """Start ``mailpipe graphsim`` on a free port and wait until its control API answers;
    ``allow_http_notifications``: subscriptions may notify plain http (``--push``)."""

    def simulator(child: Child, config_path: Path, config: dict[str, Any]) -> Simulator:
        graph = config["graph"]
        return Simulator(
            child, graph["authority_host"], Path(graph["ca_bundle"]), config_path, config
        )

    extra = ["--allow-http-notifications"] if allow_http_notifications else []
    what = "the Graph simulator"
    return launch(work, "graphsim", mailboxes, simulator, what, timeout_s, extra)


def launch(
    work: Path,
    command: str,
    mailboxes: list[str],
    simulator: Callable[[Child, Path, dict[str, Any]], Simulator],
    what: str,
    timeout_s: float,
    extra: list[str] | None = None,
) -> Simulator:
    """``mailpipe <command> --port 0`` (a simulator) in its own process, writing its config
    into ``work``; ``simulator`` makes the client from the child and that config once it is
    written, returned once its control API answers. ``what`` names it in errors."""
    config_path = work / f"{command}.toml"
    args = ["-m", "mailpipe.cli", command, "--state-dir", str(work / command), "--port", "0"]
    for box in mailboxes:
        args += ["--mailbox", box]
    args += ["--write-config", str(config_path), *(extra or [])]
    child = spawn(command, args, clean_env(), work / "logs")
    deadline = time.monotonic() + timeout_s
    while not config_path.exists():
        if not child.alive or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start:\n{child.log_tail()}")
        time.sleep(0.05)
    time.sleep(0.05)  # the file is written in one call; let it land before reading
    config = tomllib.loads(config_path.read_text())
    return answering(simulator(child, config_path, config), deadline, what)


def answering(sim: Simulator, deadline: float, what: str) -> Simulator:
    """``sim`` once its control API answers (``RuntimeError`` if it dies or never does)."""
    while True:
        try:
            sim.call("GET", "/_sim")
            return sim
        except httpx.HTTPError:
            if not sim.child.alive or time.monotonic() > deadline:
                raise RuntimeError(f"{what} does not answer:\n{sim.child.log_tail()}") from None
            time.sleep(0.05)


def write_pipeline_config(
    sim: Simulator, path: Path, push: dict[str, Any] | None = None, **mailbox_overrides: Any
) -> None:
    """The services' MAILPIPE_CONFIG: the simulator's written config plus ``mailbox_overrides``
    on every mailbox and ``push`` as ``[push]`` (JSON string escapes are valid TOML basic
    strings)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        return repr(v) if isinstance(v, int | float) else json.dumps(str(v))

    table = sim.config[sim.table]
    lines = [f"[{sim.table}]", *(f"{k} = {value(v)}" for k, v in table.items())]
    for box in sim.config["mailboxes"]:
        entry = {**box, **mailbox_overrides}
        lines += ["", "[[mailboxes]]", *(f"{k} = {value(v)}" for k, v in entry.items())]
    if push:
        lines += ["", "[push]", *(f"{k} = {value(v)}" for k, v in push.items())]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)  # it holds the client secret
