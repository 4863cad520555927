"""Error responses in the shapes Google returns them.

Gmail API: ``{"error": {"code", "message", "errors": [{"message", "domain", "reason"}],
"status"}}``. The OAuth token endpoint: ``{"error", "error_description"}``.
"""

from __future__ import annotations

from typing import Any

from libs.common.errors import MailpipeError

#: HTTP status → Google's canonical status name in error bodies.
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class GmailHTTPError(MailpipeError):
    """Raised inside a handler to answer with a Gmail error body.

    The simulator's own control-flow error: it becomes an HTTP response, never reaches a
    mailpipe caller as an exception.
    """

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        *,
        domain: str = "global",
        status_name: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, code=reason)
        self.status = status
        self.reason = reason
        self.message = message
        self.domain = domain
        self.status_name = status_name or _STATUS.get(status, "UNKNOWN")
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.status,
                "message": self.message,
                "errors": [{"message": self.message, "domain": self.domain, "reason": self.reason}],
                "status": self.status_name,
            }
        }


def not_found() -> GmailHTTPError:
    return GmailHTTPError(404, "notFound", "Requested entity was not found.")


def bad_request(message: str, reason: str = "invalidArgument") -> GmailHTTPError:
    return GmailHTTPError(400, reason, message)


def insufficient_scope() -> GmailHTTPError:
    return GmailHTTPError(
        403,
        "insufficientPermissions",
        "Request had insufficient authentication scopes.",
        status_name="PERMISSION_DENIED",
    )


def unauthenticated() -> GmailHTTPError:
    return GmailHTTPError(
        401,
        "authError",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential.",
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
    )


def rate_limited(retry_after_s: int | None) -> GmailHTTPError:
    headers = {"Retry-After": str(retry_after_s)} if retry_after_s else {}
    return GmailHTTPError(
        429, "rateLimitExceeded", "User-rate limit exceeded.", domain="usageLimits", headers=headers
    )


def api_disabled(title: str, service: str, project: str) -> GmailHTTPError:
    """The API is not enabled in the Cloud project of the token's service account."""
    message = (
        f"{title} has not been used in project {project} before or it is disabled. Enable it "
        f"by visiting https://console.developers.google.com/apis/api/{service}/overview?"
        f"project={project} then retry. If you enabled this API recently, wait a few minutes "
        "for the action to propagate to our systems and retry."
    )
    return GmailHTTPError(403, "accessNotConfigured", message, domain="usageLimits")


def mail_service_off() -> GmailHTTPError:
    """The user's Gmail service is off in the Admin console, or the user is suspended."""
    return GmailHTTPError(
        400, "failedPrecondition", "Mail service not enabled", status_name="FAILED_PRECONDITION"
    )


class OAuthError(MailpipeError):
    """Raised inside the token endpoint to answer with Google's OAuth error body."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description, code=error)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


UNAUTHORIZED_CLIENT = (
    "Client is unauthorized to retrieve access tokens using this method, or client not "
    "authorized for any of the scopes requested."
)
