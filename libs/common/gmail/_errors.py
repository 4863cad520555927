"""Google's answers mapped, once, to the mail port's neutral errors.

Gmail's error body is ``{"error": {"code", "message", "errors": [{"reason"}], "status"}}``;
the token endpoint's is ``{"error", "error_description"}`` (google-auth raises it as a
``RefreshError``). Permanent errors carry a one-line fix in Google's console terms.
"""

from __future__ import annotations

import json
import re
from typing import Any

from libs.common.mail.errors import (
    MailAuthError,
    MailError,
    MailNotFound,
    MailPermanentError,
    MailUnavailable,
    OutcomeUnknown,
    SendAsDenied,
    Throttled,
    TooLarge,
)

#: The reasons Gmail gives a 403 when it paces us rather than refuses us.
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})

#: "… has not been used in project 123456 before or it is disabled …"
_PROJECT = re.compile(r"in project (\S+?) before")
DELEGATION = "Admin console → Security → Access and data control → API controls → Domain-wide "
SEND_AS_HINT = (
    "impersonating the agent needs the agent in the Workspace and the service account's client "
    f"id granted gmail.send ({DELEGATION}delegation); an alias needs Gmail → Settings → "
    "Accounts → Send mail as (verified) on the helpdesk mailbox"
)


def _parts(content: bytes) -> tuple[str, str]:
    """The first ``reason`` and the ``message`` of a Gmail error body ("" when absent)."""
    try:
        body: Any = json.loads(content or b"{}")
    except ValueError:
        return "", ""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", ""
    errors = error.get("errors") or [{}]
    reason = errors[0].get("reason", "") if isinstance(errors[0], dict) else ""
    return str(reason or error.get("status") or ""), str(error.get("message") or "")[:200]


def _make(
    cls: type[MailError], text: str, status: int | None, code: str, hint: str | None = None
) -> MailError:
    err = cls(text, code=code, hint=hint)
    err.status = status
    return err


def error_from_response(
    status: int, content: bytes, *, what: str, user: str, retry_after_s: float | None = None
) -> MailError:
    """The neutral error of a failed Gmail answer."""
    reason, message = _parts(content)
    text = f"gmail {what} for {user}: {status} {reason or 'error'}: {message}"
    if status == 429 or (status == 403 and reason in RATE_REASONS):
        err = _make(Throttled, text, status, reason or "rateLimitExceeded")
        err.retry_after_s = retry_after_s
        return err
    if status >= 500:
        return _make(MailUnavailable, text, status, reason or "backendError")
    if status == 404:
        return _make(MailNotFound, text, status, "not_found", "the message or label is gone")
    if status == 413:
        return _make(TooLarge, text, status, "too_large", "Gmail takes messages up to 35 MB")
    hint = _hint(reason, message, what)
    err = _make(MailPermanentError, text, status, reason or f"http_{status}", hint)
    if status in (401, 403) or reason == "failedPrecondition":
        # The app's or the mailbox's setup, never the one message asked for.
        err = _make(MailAuthError, text, status, reason or f"http_{status}", hint)
        err.about_mailbox = True
    return err


def api_off_hint(api: str, message: str) -> str:
    """How to enable ``api`` in the Cloud project Google's ``message`` names."""
    found = _PROJECT.search(message)
    project = f"project {found.group(1)}" if found else "the project"
    return (
        f"Google Cloud console → APIs & Services → Library → {api} → Enable, in {project} "
        "(the service account's); it takes a few minutes to apply"
    )


def _hint(reason: str, message: str = "", what: str = "") -> str:
    if reason == "accessNotConfigured":
        return api_off_hint("Admin SDK API" if "directory" in what else "Gmail API", message)
    if reason == "failedPrecondition" and "Mail service not enabled" in message:
        return (
            "Gmail is off for this user or the user is suspended: Admin console → Apps → "
            "Google Workspace → Gmail → Service status: ON for the user's organizational "
            "unit (and Directory → Users: the user active, with a licence that includes Gmail)"
        )
    if reason == "insufficientPermissions":
        return (
            f"grant the service account's client id the Gmail scopes in the {DELEGATION}delegation"
        )
    if reason == "failedPrecondition":
        return "the token acts for no user: check the mailbox address and that Gmail is on for it"
    if reason == "forbidden":
        return "the token's user is not this mailbox: check the mailbox address in the config"
    return "Gmail refused the request; see the message for what to change"


def token_error(error: str, description: str, *, user: str, client_id: str) -> MailError:
    """The neutral error of a refused token request (no secret in it)."""
    text = f"google token for {user} refused: {error}: {description[:200]}"
    if error == "unauthorized_client":
        hint = (
            f"{DELEGATION}delegation: add client id {client_id} with the scopes gmail.modify "
            "and gmail.send (docs/google.md)"
        )
    elif "Invalid email or User ID" in description:
        hint = f"{user} is not a user of the Workspace: check the mailbox address"
    elif error == "invalid_grant":
        hint = (
            "the service account key is revoked or wrong: create a new key in Cloud console → "
            "IAM & Admin → Service accounts → Keys and configure it"
        )
    else:
        hint = "check the service account key and the token URI (docs/google.md)"
    # An unknown user gets its own code: the setup checks tell it from a revoked key.
    code = "unknown_user" if "Invalid email or User ID" in description else error
    err = _make(MailAuthError, text, 400 if error != "unauthorized_client" else 401, code, hint)
    err.about_mailbox = True
    return err


def send_as_denied(cause: MailError, agent: str) -> SendAsDenied:
    err = SendAsDenied(f"gmail may not send as {agent}: {cause.message}", code="send_as_denied")
    err.hint, err.status = SEND_AS_HINT, cause.status
    return err


def transport_error(what: str, user: str, exc: Exception, *, arrived: bool) -> MailError:
    """No answer: retryable, or :class:`OutcomeUnknown` when the request may have been done."""
    cls = OutcomeUnknown if arrived else MailUnavailable
    code = "timeout" if "timeout" in type(exc).__name__.lower() else "connection_error"
    return _make(cls, f"gmail {what} for {user}: {type(exc).__name__}", None, code)
