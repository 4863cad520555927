"""Helpers for the Gmail adapter's tests: a mailbox of the simulator through the mail port,
the simulator's statistics and faults."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from libs.common.mail import Mailbox, open_provider
from libs.gmailsim.testing import GmailSimHandle

BOX = "support@example.com"
AGENT = "agent@example.com"


@contextmanager
def gmail_box(
    sim: GmailSimHandle, address: str = BOX, budget_s: float | None = None, **overrides: Any
) -> Iterator[Mailbox]:
    config = sim.config(**overrides)
    provider = open_provider(config, retry_budget_s=budget_s)
    try:
        yield provider(config.mailbox(address))
    finally:
        provider.close()


def control(sim: GmailSimHandle, method: str, path: str, **kwargs: Any) -> Any:
    with sim.control() as client:
        resp = client.request(method, path, **kwargs)
    resp.raise_for_status()
    return resp.json() if resp.content else None


def stats(sim: GmailSimHandle) -> dict[str, Any]:
    return dict(control(sim, "GET", "/_sim/stats"))


def calls(sim: GmailSimHandle, route: str) -> int:
    """How many requests the simulator answered on ``route`` (``"POST batch"`` …), any status."""
    return sum(stats(sim)["requests"].get(route, {}).values())


def faults(sim: GmailSimHandle, **knobs: Any) -> None:
    control(sim, "POST", "/_sim/faults", json=knobs)


def sent(sim: GmailSimHandle, address: str = BOX) -> list[dict[str, Any]]:
    return list(control(sim, "GET", f"/_sim/mailboxes/{address}/sent"))
