"""Reading the mailbox TOML file for :mod:`libs.common.settings`: the file's own failures
(unreadable, not TOML) as one :class:`~libs.common.errors.ConfigError` line each, and the
dotted key path a validation error is reported under."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from libs.common.errors import ConfigError


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed file; a file that cannot be read or is not TOML is a ConfigError."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read config file {path}: {exc.strerror or exc.__class__.__name__}",
            hint="set MAILPIPE_CONFIG to the path of a readable TOML file",
        ) from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def key_path(loc: tuple[int | str, ...]) -> str:
    """``("mailboxes", 0, "address")`` → ``mailboxes[0].address``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
