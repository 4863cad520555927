"""How long the surviving fetchers took to take a killed fetcher's mailboxes over: from the
kill to the last ``mailbox lease taken`` line the survivors logged after it (their logs are
JSON lines with an ISO ``timestamp``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

TAKEN = "mailbox lease taken"


def leases_taken(lines: Iterable[str], after: float) -> dict[str, float]:
    """Mailbox → when its lease was taken (epoch seconds), for takes at or after ``after``."""
    taken: dict[str, float] = {}
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict) or entry.get("event") != TAKEN:
            continue
        at = datetime.fromisoformat(str(entry["timestamp"]).replace("Z", "+00:00")).timestamp()
        if at >= after:
            taken.setdefault(str(entry.get("mailbox")), at)
    return taken


def takeover_figures(logs: Iterable[Path], killed_at: float) -> dict[str, Any]:
    """``takeover_s`` (kill → last lease taken) and how many mailboxes moved."""
    taken: dict[str, float] = {}
    for path in logs:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for box, at in leases_taken(text.splitlines(), killed_at).items():
            taken[box] = min(at, taken.get(box, at))
    return {
        "mailboxes_taken_over": len(taken),
        "takeover_s": round(max(taken.values()) - killed_at, 3) if taken else None,
    }
