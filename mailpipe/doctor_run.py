"""Running the doctor's checks: per mailbox in setup order, over every configured mailbox,
and the two ways of showing the result (text for people, JSON for machines)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from libs.common.errors import ConfigError
from libs.common.settings import MailpipeConfig, load_config
from libs.common.setup_check.runner import (
    diagnose,
    google_key_secrets,
    graph_probe,
    redacted,
)
from libs.common.setup_check.steps import Check, ProbeFactory

__all__ = ["MailboxReport", "diagnose", "run_doctor"]

_MARK = {True: "✓", False: "✗", None: "?"}


@dataclass(frozen=True)
class MailboxReport:
    mailbox: str | None
    checks: tuple[Check, ...]


def _secrets(config: MailpipeConfig) -> list[str]:
    found = []
    for box in config.mailboxes:
        secret = box.secret()
        if secret is not None and secret.get_secret_value():
            found.append(secret.get_secret_value())
    return found + google_key_secrets(config.mailboxes)


def run_doctor(
    config: MailpipeConfig,
    *,
    mailbox: str | None = None,
    send_test: bool = False,
    probe_factory: ProbeFactory | None = None,
) -> list[MailboxReport]:
    """Check ``mailbox`` (or every configured one). Raises ConfigError for an unknown one."""
    boxes = [config.mailbox(mailbox)] if mailbox else list(config.mailboxes)
    factory = probe_factory or partial(graph_probe, google=config.google)
    secrets = _secrets(config)
    reports = []
    for box in boxes:
        probe = factory(config.graph, box)
        try:
            checks = diagnose(box, probe, send_test=send_test)
        finally:
            probe.close()
        reports.append(MailboxReport(box.address, tuple(redacted(c, secrets) for c in checks)))
    return reports


def load_for_doctor(path: Path | None) -> tuple[MailpipeConfig | None, Check]:
    """Step 1: the configuration loads and names at least one mailbox."""
    if path is None:
        return None, Check(
            "config", False, "MAILPIPE_CONFIG is not set", "set MAILPIPE_CONFIG or pass --config"
        )
    try:
        config = load_config(path)
    except ConfigError as exc:
        return None, Check("config", False, exc.message, exc.hint or "fix the named key")
    if not config.mailboxes:
        fix = "add a [[mailboxes]] entry (see docs/configuration.md)"
        return None, Check("config", False, f"{path}: no [[mailboxes]] configured", fix)
    count = len(config.mailboxes)
    return config, Check("config", True, f"{path}: {count} mailbox{'es' if count > 1 else ''}")


def exit_code(
    config_check: Check, reports: list[MailboxReport], database: Check | None = None
) -> int:
    """0 when every step passed (or cannot be proven without sending), 1 when one failed
    (the database step included), 2 when the configuration did not load."""
    if not config_check.ok:
        return 2
    failed = database is not None and database.ok is False
    return 1 if failed or any(c.ok is False for r in reports for c in r.checks) else 0


def _top(config_check: Check, database: Check | None) -> list[Check]:
    """The steps of no mailbox: the configuration, then the database when it is checked."""
    return [config_check] if database is None else [config_check, database]


def rows(
    config_check: Check, reports: list[MailboxReport], database: Check | None = None
) -> list[dict[str, object]]:
    """The ``--json`` shape: one object per step."""
    out: list[dict[str, object]] = [_row(None, c) for c in _top(config_check, database)]
    out += [_row(r.mailbox, c) for r in reports for c in r.checks]
    return out


def _row(mailbox: str | None, check: Check) -> dict[str, object]:
    return {
        "mailbox": mailbox,
        "step": check.name,
        "ok": check.ok,
        "detail": check.detail,
        "fix": check.fix,
    }


def render_json(
    config_check: Check, reports: list[MailboxReport], database: Check | None = None
) -> str:
    return json.dumps(rows(config_check, reports, database), indent=2, ensure_ascii=False)


def render_text(
    config_check: Check, reports: list[MailboxReport], database: Check | None = None
) -> str:
    lines = [line for c in _top(config_check, database) for line in _lines(c, "")]
    for report in reports:
        lines.append(f"{report.mailbox}")
        for check in report.checks:
            lines += _lines(check, "  ")
    return "\n".join(lines)


def _lines(check: Check, indent: str) -> list[str]:
    mark = "-" if check.skipped else _MARK[check.ok]
    out = [f"{indent}{mark} {check.name}: {check.detail}"]
    if check.fix and check.ok is not True:
        out.append(f"{indent}    fix: {check.fix}")
    return out
