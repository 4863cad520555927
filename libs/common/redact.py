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
# ?password=… and friends in query strings and fragments (libpq, some AMQP clients, OAuth
# redirects with ?code= or #access_token=, signed URLs with ?sig= or X-Amz-Signature=).
_QUERY_SECRET = re.compile(
    r"(?P<key>[?&#;](?:password|passwd|pwd|secret|client_secret|sslpassword|token|access_token|"
    r"refresh_token|id_token|code|sig|signature|x-amz-signature|x-amz-credential|"
    r"x-amz-security-token|api_key|apikey|key)=)[^&\s#;\"'<>]*",
    re.I,
)
# Credentials written into text: "Authorization: Bearer abc", "Bearer abc", "Cookie: a=b".
_HEADER_SECRET = re.compile(
    r"(?P<key>\b(?:authorization|proxy-authorization|x-api-key|api-key)\s*[:=]\s*)"
    r"[^\r\n,;\"']+|(?P<jar>\b(?:set-)?cookie\s*[:=]\s*)[^\r\n\"']+",
    re.I,
)
_BEARER = re.compile(r"(?P<key>\bbearer\s+)[^\s,;\"']+", re.I)
# What each pattern above starts from (a scheme's "://", a query's "?key=", a header's name,
# "bearer"): text without any of these (most logged values: ids, addresses, names, counts) is
# let through after one scan instead of four.
_MAY_HOLD_SECRET = re.compile(r"://|[?&#;][\w.-]+=|authorization|api-key|cookie|bearer", re.I)

#: Names of fields whose values are secrets, as :func:`secret_key` compares them (lower case,
#: without "-", "_", "." or spaces). Contained anywhere in the name:
_SECRET_NAME_PARTS = (
    "authorization",
    "apikey",
    "token",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "credential",
    "cookie",
    "signature",
    "privatekey",
    "accesskey",
    "sessionid",
)
#: ... or the whole name (short words that are parts of harmless names: "design", "barcode").
_SECRET_NAMES = frozenset({"sig", "code", "pwd", "pass", "auth", "key", "bearer", "otp", "pin"})


def redact_url(text: str) -> str:
    """``amqp://guest:secret@host`` → ``amqp://guest:***@host``, wherever URLs occur in ``text``
    (query-string passwords included)."""
    if _MAY_HOLD_SECRET.search(text) is None:
        return text
    return _redact_text(text)


def _redact_text(text: str) -> str:
    text = _URL_CREDENTIALS.sub(r"\g<scheme>\g<user>:***@", text)
    text = _QUERY_SECRET.sub(r"\g<key>***", text)
    text = _HEADER_SECRET.sub(lambda m: (m.group("key") or m.group("jar")) + "***", text)
    return _BEARER.sub(r"\g<key>***", text)


def secret_key(name: object) -> bool:
    """Whether a field or header called ``name`` holds a secret: ``X-Api-Key``, ``api_key``,
    ``Authorization``, ``client_secret``, ``sig`` … (case, ``-``, ``_`` and ``.`` ignored)."""
    folded = re.sub(r"[-_.\s]", "", str(name).lower())
    return folded in _SECRET_NAMES or any(part in folded for part in _SECRET_NAME_PARTS)


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
