"""Passwords for the broker and database URLs from files, as container secrets deliver them.

Compose and Kubernetes hand secrets to a process as files (``/run/secrets/...``); an environment
variable is visible to ``docker inspect``, to child processes and to crash reporters. So
``MAILPIPE_AMQP_URL`` and ``MAILPIPE_DATABASE_URL`` may carry no password, and
``MAILPIPE_AMQP_PASSWORD_FILE`` / ``MAILPIPE_DATABASE_PASSWORD_FILE`` name the file it is read
from when the settings are made (a missing file stops the process at start, not at the first
connection).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from libs.common.errors import ConfigError


def read_password_file(path: Path, key: str) -> str:
    """The file's text without the final newline an editor or ``echo`` adds."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc.__class__.__name__
        raise ConfigError(
            f"{key}: cannot read password file {path}: {reason}",
            hint="check the path and that the service user may read it",
        ) from None
    password = text.rstrip("\r\n")
    if not password:
        raise ConfigError(
            f"{key}: password file {path} is empty", hint="write the password into it"
        )
    return password


def with_password(url: str, password: str, key: str) -> str:
    """``url`` with ``password`` set, percent-encoded; the URL must name a user and no password."""
    parts = urlsplit(url)
    if parts.password is not None:
        raise ConfigError(
            f"{key} is set and the URL carries a password too",
            hint="remove the password from the URL, or unset the password file",
        )
    if not parts.username or not parts.hostname:
        raise ConfigError(
            f"{key} is set but the URL names no user and host",
            hint="write the URL as scheme://user@host:port/..., without the password",
        )
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{parts.username}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def read_secret_file(path: Path, key: str) -> str:
    """A credential file (``client_secret_file``): its text without surrounding white space."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"{key}: cannot read secret file {path}: {exc.strerror or exc.__class__.__name__}",
            hint="check the path and that the service user may read it",
        ) from None
