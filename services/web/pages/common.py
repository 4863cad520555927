"""What every page shares: the templates, rendering, the role check and the CSRF check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from services.web.auth import Accounts, Current
from services.web.domain.body_limits import too_large_message
from services.web.domain.display import pieces
from services.web.domain.roles import Role, may
from services.web.domain.tokens import safe_next, token_matches
from services.web.pages.bodies import BodyTooLarge, limits_of, read_form
from services.web.security import SESSION_COOKIE, set_cookie

templates = Jinja2Templates(directory=str(files("services.web") / "templates"))


def shown(text: object, *, multiline: bool = False) -> Markup:
    """Text from a mail as HTML: each hidden character a visible code point (its name as a
    tooltip), isolated from its surroundings so that it cannot reorder or hide anything
    (docs/console.md, "Text from mail")."""
    html = Markup("").join(
        Markup('<span class="hidden-char" dir="ltr" title="{}">{}</span>').format(p.name, p.shown)
        if p.hidden
        else escape(p.text)
        for p in pieces("" if text is None else str(text), multiline=multiline)
    )
    # A body is shown in its own block (dir="auto", a direction per line); a line is a <bdi>.
    return html if multiline else Markup('<bdi dir="auto">{}</bdi>').format(html)


templates.env.filters["shown"] = shown
templates.env.filters["shown_text"] = lambda text: shown(text, multiline=True)

#: A page of a signed-in user: the request, who it is, and the form of a POST. Pages are
#: plain functions: they run on Starlette's thread pool, so their database calls and password
#: hashes never hold up the event loop.
Page = Callable[[Request, Current, FormData | None], Response]


def accounts(request: Request) -> Accounts:
    found: Accounts = request.app.state.accounts
    return found


def insecure_cookies(request: Request) -> bool:
    return bool(request.app.state.insecure_cookies)


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    max_age = int(accounts(request).sessions.absolute.total_seconds())
    insecure = insecure_cookies(request)
    set_cookie(response, SESSION_COOKIE, token, insecure=insecure, max_age=max_age)


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
    current: Current | None = None,
) -> Response:
    """``name`` with the base layout's context: who is signed in and the session's token."""
    full = {"current": current, "csrf_token": current.session.csrf_secret if current else ""}
    full.update(context or {})
    return templates.TemplateResponse(request, name, full, status_code=status)


def refused(request: Request, status: int, message: str, current: Current | None) -> Response:
    return render(request, "refused.html", {"message": message}, status, current)


def csrf_refused(request: Request, current: Current | None) -> Response:
    return refused(
        request,
        403,
        "This form has expired or did not come from this site: reload the page and send it again.",
        current,
    )


def login_redirect(request: Request) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": safe_next(here)}), 303)


def requires(
    role: Role | None, *, uploads: bool = False
) -> Callable[[Page], Callable[[Request], Awaitable[Response]]]:
    """A page for signed-in users (of ``role`` when given): anonymous users go to /login with
    ``next=``, a user without the role gets 403, a POST without the session's token 403, a
    POST over its body cap (the larger one for a form that ``uploads`` files) 413."""

    def wrap(page: Page) -> Callable[[Request], Awaitable[Response]]:
        @wraps(page)
        async def endpoint(request: Request) -> Response:
            token = request.cookies.get(SESSION_COOKIE)
            current = await run_in_threadpool(accounts(request).current, token)
            if current is None:
                return login_redirect(request)
            if role is not None and not may(current.user.role, role):
                return refused(request, 403, f"This page is for the {role} role only.", current)
            form = None
            if request.method == "POST":
                limits = limits_of(request)
                try:
                    form = await read_form(
                        request, limits.upload_bytes if uploads else limits.form_bytes
                    )
                except BodyTooLarge as exc:
                    return refused(request, 413, too_large_message(exc.limit), current)
                if not token_matches(current.session.csrf_secret, _text(form, "csrf_token")):
                    return csrf_refused(request, current)
            return await run_in_threadpool(page, request, current, form)

        return endpoint

    return wrap


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def field(form: FormData | None, name: str) -> str:
    """A text field of a form ("" when absent, or a file)."""
    return _text(form, name) if form is not None else ""


def see_other(path: str) -> Response:
    return RedirectResponse(path, 303)
