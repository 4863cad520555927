"""Error responses in the shapes Microsoft returns them.

Graph: ``{"error": {"code", "message", "innerError": {"date", "request-id",
"client-request-id"}}}`` plus a ``request-id`` header. Entra (the token endpoint): the OAuth
error object with ``error``, ``error_description`` (``AADSTS…: …``), ``error_codes`` and ids.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from libs.common.errors import MailpipeError


def utc_now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


class GraphHTTPError(MailpipeError):
    """Raised inside a handler to answer with a Graph error body.

    The simulator's own control-flow error: it becomes an HTTP response, never reaches a
    mailpipe caller as an exception.
    """

    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.headers = headers or {}


def graph_error_body(code: str, message: str, request_id: str, client_request_id: str) -> dict:
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": utc_now_iso(),
                "request-id": request_id,
                "client-request-id": client_request_id,
            },
        }
    }


def not_found(what: str = "The specified object was not found in the store.") -> GraphHTTPError:
    return GraphHTTPError(404, "ErrorItemNotFound", what)


def bad_request(message: str, code: str = "BadRequest") -> GraphHTTPError:
    return GraphHTTPError(400, code, message)


def throttled(message: str, retry_after_s: int) -> GraphHTTPError:
    return GraphHTTPError(
        429, "ApplicationThrottled", message, headers={"Retry-After": str(retry_after_s)}
    )


# Entra ----------------------------------------------------------------------------------


class EntraError(MailpipeError):
    """Raised inside the token endpoint to answer with Entra's OAuth error body."""

    def __init__(self, status: int, error: str, aadsts: int, description: str) -> None:
        super().__init__(description, code=error)
        self.status = status
        self.error = error
        self.aadsts = aadsts
        self.description = description

    def body(self) -> dict[str, Any]:
        trace_id = str(uuid.uuid4())
        correlation_id = str(uuid.uuid4())
        timestamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return {
            "error": self.error,
            "error_description": (
                f"AADSTS{self.aadsts}: {self.description} Trace ID: {trace_id} "
                f"Correlation ID: {correlation_id} Timestamp: {timestamp}"
            ),
            "error_codes": [self.aadsts],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"https://login.microsoftonline.com/error?code={self.aadsts}",
        }
