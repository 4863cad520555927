"""Hiding credentials in text that is about to be logged or raised."""

from __future__ import annotations

import re

# user:password@ in URLs (AMQP and database URLs carry credentials).
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@\s]+@", re.I)


def redact_url(text: str) -> str:
    """``amqp://guest:secret@host`` → ``amqp://guest:***@host``, wherever URLs occur in ``text``."""
    return _URL_CREDENTIALS.sub(r"\g<scheme>\g<user>:***@", text)
