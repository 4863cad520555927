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

import traceback
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
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # url_error says what is wrong with it
        return "the broker URL"
    if parts.scheme == "memory":
        return "the in-process broker (memory://)"
    host = parts.hostname or "localhost"
    where = f"{host}:{port or 5672}"
    vhost = unquote(parts.path[1:]) if parts.path.startswith("/") else ""
    return where if vhost in ("", "/") else f"{where} (vhost {vhost!r})"


def broker_user(url: str) -> str:
    try:
        return unquote(urlsplit(url).username or "guest")
    except ValueError:
        return "?"


def broker_failure(
    exc: BaseException, url: str, namespace: str, setting: str = "MAILPIPE_AMQP_URL"
) -> MailpipeError:
    """What a failed connect, declare or passive check against the broker means to a user;
    ``setting`` is where the user gave the URL."""
    from amqp import exceptions as amqp_errors

    where = broker_where(url)
    if isinstance(exc, MailpipeError):
        return exc
    if isinstance(exc, ValueError) and (bad_url := url_error(exc, setting)) is not None:
        return bad_url
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
    if isinstance(exc, ValueError):
        return url_error(exc)
    return None


#: Where URLs are parsed: a ValueError raised there is a URL the user gave that cannot be
#: read (a port that is not a number, an IPv6 bracket that is not closed).
_URL_PARSERS = ("/urllib/parse.py", "/sqlalchemy/engine/url.py", "/kombu/utils/url.py")
#: Who asked, which tells whose URL it is.
_DATABASE_CALLERS = ("/sqlalchemy/", "/psycopg/", "/libs/common/db/")
_BROKER_CALLERS = ("/kombu/", "/amqp/", "/libs/common/broker/")
_URL_HINT = (
    "fix it: the port must be a number, an IPv6 host goes in [brackets], and a '@', ':' or "
    "'/' in the user name or password must be percent-encoded"
)


def url_error(exc: ValueError, setting: str | None = None) -> ConfigError | None:
    """A URL the user gave that cannot be parsed, or ``None`` when ``exc`` is not one.

    kombu, SQLAlchemy and urllib refuse such URLs with a bare ValueError deep in a connect;
    where it was raised tells which URL it is. The library's own words are not shown: some
    quote a piece of the URL, which may be a piece of the password."""
    files = [
        frame.f_code.co_filename.replace("\\", "/")
        for frame, _ in traceback.walk_tb(exc.__traceback__)
    ]
    if not files or not any(p in f for f in files[-2:] for p in _URL_PARSERS):
        return None
    if setting is not None:
        what = "database" if "DATABASE" in setting else "broker"
    elif any(p in f for f in files for p in _DATABASE_CALLERS):
        setting, what = "MAILPIPE_DATABASE_URL", "database"
    elif any(p in f for f in files for p in _BROKER_CALLERS):
        setting, what = "MAILPIPE_AMQP_URL", "broker"
    else:
        return None
    return ConfigError(
        f"the {what} URL in {setting} is not valid: {_url_problem(exc)}", hint=_URL_HINT
    )


def _url_problem(exc: ValueError) -> str:
    text = str(exc)
    if "IPv6" in text:
        return "an IPv6 address's '[' is not closed by ']'"
    if "range" in text:
        return "its port is not between 1 and 65535"
    if "int" in text or "port" in text.lower():
        return "its host and port cannot be read (is the port a number?)"
    return "it cannot be read"


def check_broker_url(url: str, setting: str) -> None:
    """Refuse a broker URL that no connect could use, naming ``setting`` (where the user
    gave it), before anything starts."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in ("amqp", "amqps", "pyamqp", "memory"):
        raise ConfigError(
            f"{setting}: unsupported broker URL {redact_url(url)!r}",
            hint=f"set {setting} to an amqp:// or amqps:// URL of RabbitMQ, or memory://",
        )
    try:
        urlsplit(url).port  # noqa: B018 - reading the port is the check
    except ValueError as exc:
        raise ConfigError(
            f"the broker URL in {setting} is not valid: {_url_problem(exc)}", hint=_URL_HINT
        ) from None


def settings_error(exc: ValidationError) -> ConfigError:
    """A bad ``MAILPIPE_*`` environment variable, named as the user wrote it."""
    err = exc.errors(include_url=False, include_input=False)[0]
    where = _env_prefix(exc.title) + "__".join(str(p) for p in err["loc"]).upper()
    return ConfigError(f"{where}: {err['msg']}", hint="fix or unset that environment variable")


def _env_prefix(title: str) -> str:
    """The environment prefix of the settings class named ``title`` (a service's own
    settings have their own: ``MAILPIPE_SENDER_``, ``MAILPIPE_FETCHER_``); ``MAILPIPE_``
    for the shared ones."""
    from pydantic_settings import BaseSettings

    found: list[type[BaseSettings]] = [BaseSettings]
    while found:
        cls = found.pop()
        if cls.__name__ == title:
            return str(cls.model_config.get("env_prefix") or "MAILPIPE_").upper()
        found.extend(cls.__subclasses__())
    return "MAILPIPE_"


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
