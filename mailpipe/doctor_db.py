"""The doctor's ``database`` step: MAILPIPE_DATABASE_URL answers, is UTF8 (PostgreSQL) and at
which schema revision it is. Nothing is created or migrated: an SQLite file that is not there
yet is reported, not made. And its ``config`` step when the mailboxes are the integrations in
the database (``MAILPIPE_CONFIG_SOURCE=database``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from libs.common.errors import MailpipeError
from libs.common.setup_check.steps import Check

if TYPE_CHECKING:
    from libs.common.settings import MailpipeConfig, Settings

DATABASE = "database"
_FIX = "see docs/deployment.md, 'The database'"


def check_database(database_url: str) -> Check:
    """Connect once (a PostgreSQL database that is not UTF8 is refused on connect) and read
    the schema revision."""
    from libs.common.db import current_revision, head_revision
    from libs.common.db.engine import parse_url, safe_url
    from libs.common.startup import explain

    try:
        url = parse_url(database_url)
        where = safe_url(url)
        if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
            detail = f"{where}: no file yet; mailpipe migrate or the first service creates it"
            return Check(DATABASE, True, detail)
        revision = current_revision(database_url)
    except MailpipeError as exc:
        error = explain(exc) or exc
        return Check(DATABASE, False, error.message, error.hint or _FIX)
    encoding = ", encoding UTF8" if url.get_backend_name() == "postgresql" else ""
    return Check(DATABASE, True, f"{where}{encoding}: {_schema(revision, head_revision())}")


def _schema(revision: str | None, head: str) -> str:
    if revision is None:
        return "no tables yet (mailpipe migrate, or the first service, creates them)"
    if revision == head:
        return f"schema at revision {revision} (head)"
    return f"schema at revision {revision}, not {head}: mailpipe migrate upgrades it"


def load_mailboxes(settings: Settings, path: Path | None) -> tuple[MailpipeConfig | None, Check]:
    """Step 1: the file ``path`` (``--config``) or MAILPIPE_CONFIG, or, with
    ``MAILPIPE_CONFIG_SOURCE=database`` and no ``--config``, the integrations."""
    from mailpipe.doctor_run import load_for_doctor

    if path is None and settings.config_source == "database":
        return load_integrations(settings)
    return load_for_doctor(path or settings.config)


def load_integrations(settings: Settings) -> tuple[MailpipeConfig | None, Check]:
    """Step 1 with ``MAILPIPE_CONFIG_SOURCE=database``: the enabled integrations, their
    secrets opened with the secrets key (``[graph]`` from MAILPIPE_CONFIG when set)."""
    from libs.common.config_source import service_config

    try:
        config = service_config(settings, wait=False)
    except MailpipeError as exc:
        return None, Check("config", False, exc.message, exc.hint or "see docs/configuration.md")
    count = len(config.mailboxes)
    detail = f"database: {count} enabled integration{'s' if count > 1 else ''}"
    return config, Check("config", True, detail)
