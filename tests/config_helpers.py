"""A mailbox TOML file for a service started as a process (every service needs one)."""

from __future__ import annotations

import json
from pathlib import Path

from libs.graphsim.testing import SimHandle


def write_sim_config(sim: SimHandle, path: Path, mailboxes: list[str] | None = None) -> Path:
    """``[graph]`` at the simulator and one ``[[mailboxes]]`` per mailbox (default: all of the
    simulator's), with working credentials; the file is private to its owner."""
    # JSON strings are valid TOML basic strings for the values written here.
    lines = [
        "[graph]",
        f"base_url = {json.dumps(sim.base_url)}",
        f"authority_host = {json.dumps(sim.authority_host)}",
        f"ca_bundle = {json.dumps(str(sim.ca_bundle))}",
    ]
    for address in mailboxes or list(sim.mailboxes):
        lines += [
            "",
            "[[mailboxes]]",
            f"address = {json.dumps(address)}",
            f"tenant_id = {json.dumps(sim.tenant_id)}",
            f"client_id = {json.dumps(sim.client_id)}",
            f"client_secret = {json.dumps(sim.client_secret)}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path
