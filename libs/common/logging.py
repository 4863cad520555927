"""structlog JSON logs to stdout, one object per line.

``correlation_id`` and ``message_id`` are bound per message by the consumer loop
(``structlog.contextvars``), so one email or job can be followed across every hop.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from functools import lru_cache
from typing import Any

import structlog
from pydantic import SecretStr

from libs.common.redact import redact_value

# Keys whose values are never written, whatever a caller passes by mistake.
_SECRET_KEYS = re.compile(
    r"(secret|password|passwd|token|authorization|assertion|private_key)", re.I
)


# Written by the processors before ``_redact`` (TimeStamper, add_log_level), over whatever a
# caller passed under these names: nothing of a caller's is left in them to hide.
_OWN_KEYS = frozenset({"timestamp", "level"})


@lru_cache(maxsize=1024)
def _secret_key(key: str) -> bool:
    # A log line has a handful of keys, the same ones line after line.
    return _SECRET_KEYS.search(key) is not None


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Runs last, after tracebacks are formatted, so that nothing written escapes it."""
    for key, value in list(event.items()):
        if key in _OWN_KEYS:
            continue
        if isinstance(value, SecretStr) or (value is not None and _secret_key(str(key))):
            event[key] = "**********"
        else:
            event[key] = redact_value(value)
    return event


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON logs on stdout for ``service``; stdlib logging (kombu, httpx, msal) goes there too."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # Tracebacks are text first, then everything is redacted, then rendered.
    finish: list[Any] = [
        structlog.processors.format_exc_info,
        _redact,
        structlog.processors.JSONRenderer(),
    ]
    structlog.configure(
        processors=[*shared, *finish],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *finish],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # Libraries are chatty at INFO; their warnings still come through.
    root.setLevel(max(numeric, logging.WARNING))


class log_context:
    """``with log_context(correlation_id=…):`` log lines inside carry these values; the values
    before are back after the block. What :func:`structlog.contextvars.bound_contextvars`
    does, at half its CPU (it copies the whole context on entry): the services bind the ids
    of every email and delivery, thousands a second."""

    __slots__ = ("_tokens", "_values")

    def __init__(self, **values: Any) -> None:
        self._values = values
        self._tokens: Mapping[str, Any] = {}

    def __enter__(self) -> None:
        self._tokens = structlog.contextvars.bind_contextvars(**self._values)

    def __exit__(self, *exc: object) -> None:
        structlog.contextvars.reset_contextvars(**self._tokens)
