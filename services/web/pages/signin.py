"""``/login`` (the form, and signing in) and ``/logout``.

The sign-in form has no session yet, so its CSRF token is a double-submit one: a random value
in a cookie of its own and in the form, which must match. Signing in always opens a NEW session
(ending the one the browser had), so a session id planted before sign-in is worthless."""

from __future__ import annotations

import secrets

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.web.auth import Current, token_digest
from services.web.domain.body_limits import too_large_message
from services.web.domain.tokens import safe_next, token_matches
from services.web.pages.bodies import BodyTooLarge, limits_of, read_form
from services.web.pages.common import (
    accounts,
    client_of,
    csrf_refused,
    field,
    insecure_cookies,
    refused,
    render,
    requires,
    see_other,
    set_session_cookie,
)
from services.web.security import LOGIN_CSRF_COOKIE, SESSION_COOKIE, clear_cookie, set_cookie
from services.web.store import User


def _login_form(
    request: Request, next_path: str, *, error: str = "", username: str = "", status: int = 200
) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    context = {"login_token": token, "next": next_path, "error": error, "username": username}
    response = render(request, "login.html", context, status)
    set_cookie(response, LOGIN_CSRF_COOKIE, token, insecure=insecure_cookies(request))
    return response


async def login_page(request: Request) -> Response:
    return _login_form(request, safe_next(request.query_params.get("next")))


async def login(request: Request) -> Response:
    try:
        form = await read_form(request, limits_of(request).form_bytes)
    except BodyTooLarge as exc:
        return refused(request, 413, too_large_message(exc.limit), None)
    next_path = safe_next(field(form, "next"))
    if not token_matches(request.cookies.get(LOGIN_CSRF_COOKIE), field(form, "csrf_token")):
        return csrf_refused(request, None)
    username = field(form, "username")
    outcome = await run_in_threadpool(
        accounts(request).sign_in, username, field(form, "password"), client_of(request)
    )
    if outcome.user is None:
        return _login_form(
            request, next_path, error=outcome.message, username=username, status=outcome.status
        )
    return await run_in_threadpool(_signed_in, request, outcome.user, next_path)


def _signed_in(request: Request, user: User, next_path: str) -> Response:
    console = accounts(request)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        row = console.store.session(token_digest(old))
        if row is not None:
            console.store.end_session(row.id)
    new = console.start_session(user)
    response = see_other(next_path)
    set_session_cookie(request, response, new.token)
    clear_cookie(response, LOGIN_CSRF_COOKIE, insecure=insecure_cookies(request))
    return response


@requires(None)
def logout(request: Request, current: Current, form: FormData | None) -> Response:
    console = accounts(request)
    console.store.end_session(current.session.id)
    console.store.audit(
        "signed out",
        actor_id=current.user.id,
        actor=current.user.username,
        target=current.user.username,
    )
    response = see_other("/login")
    clear_cookie(response, SESSION_COOKIE, insecure=insecure_cookies(request))
    return response


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
