"""Hiding credentials in text that is about to be logged, raised or put in a header."""

from __future__ import annotations

import re
from typing import Any

# user:password@ in URLs (AMQP and database URLs carry credentials). The password may hold an
# unencoded "@" (people write them), so it runs to the last "@" before a "/" or white space.
_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):[^\s/]*@(?=[^\s@/]*(?:[/\s?#]|$))",
    re.I,
)
# ?password=… and friends in query strings (libpq, some AMQP clients).
_QUERY_SECRET = re.compile(
    r"(?P<key>[?&](?:password|passwd|pwd|secret|token|sslpassword|access_token)=)[^&\s#]*", re.I
)


def redact_url(text: str) -> str:
    """``amqp://guest:secret@host`` → ``amqp://guest:***@host``, wherever URLs occur in ``text``
    (query-string passwords included)."""
    text = _URL_CREDENTIALS.sub(r"\g<scheme>\g<user>:***@", text)
    return _QUERY_SECRET.sub(r"\g<key>***", text)


def redact_value(value: Any) -> Any:
    """``value`` with credentials hidden, looking inside lists, tuples and dicts; exceptions and
    other objects are turned into their (redacted) text."""
    if isinstance(value, str):
        return redact_url(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [redact_value(v) for v in value]
    if isinstance(value, BaseException):
        return redact_url(f"{type(value).__name__}: {value}")
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_url(str(value))
