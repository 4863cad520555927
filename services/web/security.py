"""Security headers on every response, and the console's cookies.

No page has inline script or style (CSS is a static file), so the policy allows only this
origin (a quarantined mail's HTML is shown in a sandboxed ``srcdoc`` frame, which inherits this
policy); pages are never cached (they show who is signed in and what they may do)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

SESSION_COOKIE = "mailpipe_session"
#: The sign-in form's double-submit token, before there is a session.
LOGIN_CSRF_COOKIE = "mailpipe_login_csrf"


class SecurityHeaders:
    """ASGI middleware: :data:`HEADERS` on every response, ``Cache-Control: no-store`` on
    everything but the static files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if not static:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def set_cookie(
    response: Response, name: str, value: str, *, insecure: bool, max_age: int | None = None
) -> None:
    """HttpOnly, SameSite=Lax, Path=/, and Secure unless plain HTTP was asked for."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=not insecure,
        httponly=True,
        samesite="lax",
    )


def clear_cookie(response: Response, name: str, *, insecure: bool) -> None:
    response.delete_cookie(name, path="/", secure=not insecure, httponly=True, samesite="lax")
