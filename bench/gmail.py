"""The Gmail simulator as the benchmark's mail world (``python -m bench --provider google``):
``mailpipe gmailsim --port 0`` in its own process, its answers put in the Graph simulator's
shape the figures are computed from (bench/measure.py), and the Gmail-only figures.

- the timeline: a label gained is an ``upsert`` into that folder, the trash standing for
  Recoverable Items (``measure.DELETED``); a label lost is a ``removed``; labels that are no
  folder (UNREAD, SENT, categories …) are left out;
- the stats: ``rate_limited`` is the ``throttled`` count; ``units`` the quota units per user.

The quota stays Google's (250 units per user per second): unlike Graph's request budget it is
what a real mailbox gets, so the run measures the pipeline within it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.measure import DELETED
from bench.procs import Child
from bench.sim import Simulator, launch

#: Gmail labels that are no folder: a message gaining or losing one does not move.
NOT_FOLDERS = frozenset({"unread", "starred", "important", "sent", "draft", "chat"})


def folder_of(label: str) -> str | None:
    """The Graph folder a Gmail label stands for in the figures (``None``: not a folder)."""
    if label in NOT_FOLDERS or label.startswith("category_"):
        return None
    return DELETED if label == "trash" else label


def graph_events(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Gmail's label timeline as Graph's folder timeline (``upsert``/``removed``)."""
    out = []
    for e in events:
        folder = folder_of(str(e["folder"]))
        if folder is not None:
            kind = "upsert" if e["kind"] == "added" else "removed"
            out.append({"at": e["at"], "kind": kind, "folder": folder, "id": e["id"]})
    return out


def graph_stats(stats: Mapping[str, Any]) -> dict[str, Any]:
    """The Gmail simulator's stats with Graph's ``throttled``; everything else as it is."""
    return {**stats, "throttled": int(stats.get("rate_limited", 0))}


def gmail_figures(before: Mapping[str, Any], after: Mapping[str, Any], n: int) -> dict[str, Any]:
    """Gmail API requests (a batch counts once) and quota units per email, between two stats;
    ``{}`` for the Graph simulator's stats, which have no units."""
    if "units" not in after:
        return {}
    requests = int(after["http_requests"]) - int(before["http_requests"])
    units = sum(after["units"].values()) - sum(before.get("units", {}).values())
    items = sum(sum(s.values()) for s in after.get("batch_items", {}).values()) - sum(
        sum(s.values()) for s in before.get("batch_items", {}).values()
    )
    return {
        "provider": "google",
        "gmail_api_requests": requests,
        "gmail_batch_items": items,
        "gmail_quota_units": units,
        "gmail_api_requests_per_email": round(requests / n, 4) if n else None,
        "gmail_quota_units_per_email": round(units / n, 3) if n else None,
    }


@dataclass
class GmailSimulator(Simulator):
    name: str = "gmailsim"
    table: str = "google"

    def faults(self, **knobs: Any) -> dict[str, Any]:
        return dict(self.call("POST", "/_sim/faults", json=knobs))

    def stats(self) -> dict[str, Any]:
        return graph_stats(self.call("GET", "/_sim/stats"))

    def folders(self, mailbox: str) -> dict[str, int]:
        labels = self.call("GET", f"/_sim/mailboxes/{mailbox}")["labels"]
        return {folder_of(k) or k: int(v) for k, v in labels.items()}

    def events(self, mailbox: str) -> list[dict[str, Any]]:
        return graph_events(self.call("GET", f"/_sim/mailboxes/{mailbox}/events"))


def start_gmail_simulator(work: Path, mailboxes: list[str], timeout_s: float = 60.0) -> Simulator:
    """Start ``mailpipe gmailsim`` on a free port and wait until its control API answers."""

    def simulator(child: Child, config_path: Path, config: dict[str, Any]) -> Simulator:
        google = config["google"]
        return GmailSimulator(
            child, google["api_url"], Path(google["ca_bundle"]), config_path, config
        )

    return launch(work, "gmailsim", mailboxes, simulator, "the Gmail simulator", timeout_s)
