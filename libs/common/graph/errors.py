"""Typed Microsoft Graph errors, mapped from Graph's error body.

Graph answers a failed request with ``{"error": {"code", "message", "innerError":
{"request-id", ...}}}``. :func:`error_from_response` turns status + body into one class of
the mailpipe hierarchy: retryable (throttling, outages, timeouts) or permanent (a setup step
is missing; ``hint`` names it). This module is pure: no HTTP library is imported here.

This is where Graph's answers become the mail port's neutral errors, once: every class here
subclasses one of :mod:`libs.common.mail.errors` (``GraphNotFound`` is a ``MailNotFound``,
403 ``ErrorSendAsDenied`` a ``SendAsDenied``, ...), so the services catch only those and no
Graph error code is read outside this package.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from libs.common.errors import MailpipeError
from libs.common.mail.errors import (
    CursorExpired,
    MailAuthError,
    MailError,
    MailNotFound,
    MailPermanentError,
    MailRetryableError,
    MailUnavailable,
    OutcomeUnknown,
    SendAsDenied,
    Throttled,
)
from libs.common.mail.errors import TooLarge as MailTooLarge


class GraphError(MailError):
    """An error answered by (or on the way to) Microsoft Graph or its token authority."""

    code = "graph_error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        hint: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        MailpipeError.__init__(self, message, code=code, hint=hint)
        self.status = status
        self.request_id = request_id
        self.retry_after_s = retry_after_s
        self.about_mailbox = status in _MAILBOX_STATUSES or self.code in _MAILBOX_CODES

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"request_id={self.request_id!r}, message={self.message!r})"
        )


class GraphRetryableError(GraphError, MailRetryableError):
    """Graph may accept the same request later (throttled, unavailable, timed out)."""

    retryable = True


class GraphThrottled(GraphRetryableError, Throttled):
    """429 (or 503 with Retry-After): Graph asked us to slow down."""


class GraphUnavailable(GraphRetryableError, MailUnavailable):
    """Graph or the network failed: 5xx, timeout, connection error."""


class GraphOutcomeUnknown(GraphUnavailable, OutcomeUnknown):
    """A non-idempotent request (sendMail, draft send, copy) left and then timed out or got a
    5xx: Graph may have done the work. Not retried in place; the caller decides how to find
    out (the sender looks in Sent Items for its Message-ID before sending again)."""


def outcome_unknown(err: GraphError) -> GraphOutcomeUnknown:
    """``err`` re-typed as "maybe done", keeping its status, code and request id."""
    return GraphOutcomeUnknown(
        f"{err.message} (the request left; Graph may have done it)",
        status=err.status,
        code=err.code,
        request_id=err.request_id,
        hint="check whether it was done before repeating it (the sender checks Sent Items)",
        retry_after_s=err.retry_after_s,
    )


class GraphPermanentError(GraphError, MailPermanentError):
    """Retrying the same request cannot help; ``hint`` names the setup step to check."""

    retryable = False


class GraphNotFound(GraphPermanentError, MailNotFound):
    """The item does not exist (any more). Deleting or moving it again counts as done."""


class GraphAuthError(GraphPermanentError, MailAuthError):
    """No token: the app registration, its credential or the tenant is wrong."""


class DeltaExpired(GraphPermanentError, CursorExpired):
    """410 SyncStateNotFound: the delta link expired; the folder must be synced from scratch."""


class GraphSendAsDenied(GraphPermanentError, SendAsDenied):
    """403 ``ErrorSendAsDenied``: Exchange refused to let the mailbox send as that address."""


class GraphTooLarge(GraphPermanentError, MailTooLarge):
    """The request exceeds Graph's size limit."""


#: The name this class had before the mail port; kept for the Graph client's own users.
TooLarge = GraphTooLarge


# Hints say which setup step an operator should check (docs/graph.md has the same table).
_HINT_POLICY = (
    "check the app's Graph application permissions (Mail.ReadWrite, Mail.Send, User.Read.All) "
    "have admin consent and that the Exchange application access policy includes this mailbox"
)
_HINTS: dict[str, str] = {
    "ErrorItemNotFound": "the message was already deleted or moved; nothing to do",
    "ErrorAccessDenied": _HINT_POLICY,
    "Authorization_RequestDenied": _HINT_POLICY,
    "AccessDenied": _HINT_POLICY,
    "ErrorSendAsDenied": (
        "grant the mailbox's app or the agent Exchange 'Send As' rights "
        "(Add-RecipientPermission -AccessRights SendAs), or remove the agent from send_as"
    ),
    "MailboxNotEnabledForRESTAPI": (
        "the mailbox is not an Exchange Online mailbox or has no licence: assign an Exchange "
        "Online licence (or use a shared mailbox) and check the address"
    ),
    "MailboxNotSupportedForRESTAPI": (
        "the mailbox is not an Exchange Online mailbox or has no licence: assign an Exchange "
        "Online licence (or use a shared mailbox) and check the address"
    ),
    "ErrorInvalidUser": "the mailbox address does not exist in this tenant: check [[mailboxes]]",
    "ResourceNotFound": "the mailbox or folder does not exist in this tenant: check the address",
    "ErrorInvalidRecipients": "a recipient address is malformed or does not exist",
    "ErrorMessageSizeExceeded": "the message is larger than the mailbox's send limit",
    "RequestEntityTooLarge": "send large attachments via an upload session (automatic > 3 MB)",
    "ErrorQuotaExceeded": "the mailbox is full: free space or raise its quota",
    "InvalidAuthenticationToken": (
        "the token was rejected: check tenant_id and the app registration in Entra"
    ),
    "ErrorInvalidIdMalformed": "the message id is malformed (not an immutable id?)",
    "ErrorFolderExists": "a folder with that name already exists",
    "SyncStateNotFound": "the delta link expired; a full resync follows automatically",
}
_DEFAULT_PERMANENT_HINT = "check the request and the app's permissions (see docs/graph.md)"

#: Statuses and codes that speak of the mailbox or the app, never of one message
#: (``MailError.about_mailbox``).
_MAILBOX_STATUSES = frozenset({401, 403})
_MAILBOX_CODES = frozenset(
    {
        "ErrorAccessDenied",
        "AccessDenied",
        "Authorization_RequestDenied",
        "ErrorInvalidUser",
        "MailboxNotEnabledForRESTAPI",
        "MailboxNotSupportedForRESTAPI",
        "ResourceNotFound",
        "InvalidAuthenticationToken",
        "ErrorQuotaExceeded",
    }
)
_NOT_FOUND_CODES = {"ErrorItemNotFound", "ResourceNotFound", "ErrorObjectNotFound"}
_RETRYABLE_STATUS = {408, 429, 500, 502, 503, 504}


def parse_error_body(body: bytes | str | Mapping[str, Any] | None) -> tuple[str, str, str | None]:
    """``(code, message, request_id)`` from a Graph error body, tolerant of any shape."""
    data: Any = body
    if isinstance(body, bytes | str):
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            data = None
    err = data.get("error") if isinstance(data, Mapping) else None
    if not isinstance(err, Mapping):
        return "", "", None
    inner = err.get("innerError") or err.get("innererror") or {}
    request_id = inner.get("request-id") if isinstance(inner, Mapping) else None
    return str(err.get("code") or ""), str(err.get("message") or ""), request_id


def error_from_response(
    status: int,
    body: bytes | str | Mapping[str, Any] | None,
    *,
    request_id: str | None = None,
    retry_after_s: float | None = None,
    what: str = "Graph request",
) -> GraphError:
    """The typed error for a failed Graph response (status >= 400)."""
    code, text, body_request_id = parse_error_body(body)
    request_id = body_request_id or request_id
    message = f"{what} failed: HTTP {status}" + (f" {code}" if code else "")
    if text:
        message += f": {text[:300]}"
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code or f"http_{status}",
        "request_id": request_id,
        "retry_after_s": retry_after_s,
    }
    if status == 429 or (status == 503 and retry_after_s is not None):
        return GraphThrottled(message, hint="Graph throttled the mailbox; retried later", **kwargs)
    if status in _RETRYABLE_STATUS:
        return GraphUnavailable(message, hint="Graph is unavailable; retried later", **kwargs)
    hint = _HINTS.get(code, _DEFAULT_PERMANENT_HINT)
    if status == 410 and code in ("SyncStateNotFound", "SyncStateInvalid", ""):
        return DeltaExpired(message, hint=_HINTS["SyncStateNotFound"], **kwargs)
    if status == 404 or code in _NOT_FOUND_CODES:
        if code in ("ErrorInvalidUser", "MailboxNotEnabledForRESTAPI", "ResourceNotFound"):
            return GraphPermanentError(message, hint=hint, **kwargs)
        return GraphNotFound(message, hint=_HINTS["ErrorItemNotFound"], **kwargs)
    if status == 413 or code in ("RequestEntityTooLarge", "ErrorMessageSizeExceeded"):
        return GraphTooLarge(
            message, hint=_HINTS.get(code, _HINTS["RequestEntityTooLarge"]), **kwargs
        )
    if code == "ErrorSendAsDenied":
        return GraphSendAsDenied(message, hint=hint, **kwargs)
    return GraphPermanentError(message, hint=hint, **kwargs)


def transport_error(what: str, exc: BaseException) -> GraphUnavailable:
    """A timeout or connection failure, which is always worth retrying."""
    return GraphUnavailable(
        f"{what} failed: {type(exc).__name__}",
        code="timeout" if "Timeout" in type(exc).__name__ else "connection_error",
        hint="Graph could not be reached; retried later (check network, proxy and CA bundle)",
    )
