"""Start-up failures in the user's terms: one typed error with what to do, never a traceback.

Outside libraries fail in their own words (``ConnectionRefusedError``, amqp's
``AccessRefused``, psycopg's ``FATAL: role "x" does not exist``, pydantic's ``ValidationError``).
:func:`explain` turns each into a :class:`~libs.common.errors.MailpipeError` once, at the
boundary (service start and the CLI's error exit), so every command says the same thing the
same way. Unknown exceptions are left alone: they are bugs and keep their traceback.

No message carries a password: URLs are shown as host, port, user and vhost only, and every
text is passed through :func:`~libs.common.redact.redact_url` on the way out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from libs.common.errors import (
    BrokerError,
    ConfigError,
    MailpipeError,
    PermanentError,
    UnroutableError,
)
from libs.common.redact import redact_url

if TYPE_CHECKING:
    from pydantic import ValidationError

#: Hints, in the user's terms; each names the setting to change.
_DB_HINTS = (
    (
        'role "',
        "create the role and its database (README, 'PostgreSQL': createuser, createdb), "
        "or fix the user in MAILPIPE_DATABASE_URL",
    ),
    (
        'database "',
        "create the database (README, 'PostgreSQL': createdb), "
        "or fix its name in MAILPIPE_DATABASE_URL",
    ),
    ("password authentication failed", "check the user name and password in MAILPIPE_DATABASE_URL"),
)
_DB_UNREACHABLE_HINT = (
    "start the database server, or fix the host and port in MAILPIPE_DATABASE_URL"
)


def broker_where(url: str) -> str:
    """``host:port`` (and a non-default vhost) of an AMQP URL, without the credentials."""
    parts = urlsplit(url)
    if parts.scheme == "memory":
        return "the in-process broker (memory://)"
    host = parts.hostname or "localhost"
    where = f"{host}:{parts.port or 5672}"
    vhost = unquote(parts.path[1:]) if parts.path.startswith("/") else ""
    return where if vhost in ("", "/") else f"{where} (vhost {vhost!r})"


def broker_user(url: str) -> str:
    return unquote(urlsplit(url).username or "guest")


def broker_failure(
    exc: BaseException, url: str, namespace: str, setting: str = "MAILPIPE_AMQP_URL"
) -> MailpipeError:
    """What a failed connect, declare or passive check against the broker means to a user;
    ``setting`` is where the user gave the URL."""
    from amqp import exceptions as amqp_errors

    where = broker_where(url)
    if isinstance(exc, MailpipeError):
        return exc
    if isinstance(exc, amqp_errors.AccessRefused):
        return PermanentError(
            f"the broker at {where} refused the login of user {broker_user(url)!r}",
            code="broker_refused",
            hint=f"check the user name and password in {setting}",
        )
    if isinstance(exc, amqp_errors.NotAllowed):
        return PermanentError(
            f"the broker at {where} does not let user {broker_user(url)!r} use this vhost",
            code="broker_refused",
            hint=f"check the vhost in {setting} and the user's permissions "
            "(rabbitmqctl set_permissions)",
        )
    if isinstance(exc, amqp_errors.NotFound):
        return namespace_not_declared(namespace, where)
    return BrokerError(
        f"no broker answers at {where}: {_reason(exc)}",
        hint=f"start RabbitMQ, or fix the host and port in {setting}",
    )


def namespace_not_declared(namespace: str, where: str) -> UnroutableError:
    return UnroutableError(
        f"namespace {namespace!r} has no queues on the broker at {where}",
        hint=f"start a mailpipe service (sender, ticketer, fetcher or `mailpipe run "
        f"--broker-url`) with MAILPIPE_NAMESPACE={namespace} once: each creates the queues "
        "at start; or fix MAILPIPE_NAMESPACE",
    )


def with_database_hint(exc: MailpipeError) -> MailpipeError:
    """A database error from the store, given the hint for its cause when it has none.

    The store calls every failed connect "unavailable" (retryable); a missing role or
    database or a wrong password is permanent: waiting does not create them."""
    from libs.common.db.errors import StoreError

    if exc.hint is not None:
        return exc
    text = exc.message
    for needle, hint in _DB_HINTS:
        # psycopg's words: FATAL:  role "x" does not exist / database "x" does not exist.
        if needle in text:
            return StoreError(text, hint=hint)
    if "unavailable" in text or "connection" in text:
        exc.hint = _DB_UNREACHABLE_HINT
    return exc


def explain(exc: BaseException) -> MailpipeError | None:
    """``exc`` as a mailpipe error with a hint, or ``None`` when it is not a known failure."""
    from pydantic import ValidationError

    from libs.common.db.errors import StoreError, StoreUnavailable

    if isinstance(exc, StoreError | StoreUnavailable):
        return with_database_hint(exc)
    if isinstance(exc, MailpipeError):
        return exc
    if isinstance(exc, ValidationError):
        return settings_error(exc)
    return None


def settings_error(exc: ValidationError) -> ConfigError:
    """A bad ``MAILPIPE_*`` environment variable, named as the user wrote it."""
    err = exc.errors(include_url=False, include_input=False)[0]
    where = "MAILPIPE_" + "__".join(str(p) for p in err["loc"]).upper()
    return ConfigError(f"{where}: {err['msg']}", hint="fix or unset that environment variable")


def one_line(exc: BaseException) -> str:
    """The error as one line of text, credentials hidden."""
    text = " ".join(str(exc).split())
    return redact_url(text)


def _reason(exc: BaseException) -> str:
    # kombu wraps socket errors in OperationalError; the socket's own words are clearer.
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, OSError) and not isinstance(exc, OSError):
        exc = cause
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return redact_url(str(exc) or exc.__class__.__name__)
