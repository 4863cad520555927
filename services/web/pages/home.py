"""``/`` (who you are and what your role may use) and ``/account/password``."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.web.auth import Accounts, Current
from services.web.domain.passwords import password_problem
from services.web.domain.roles import may
from services.web.pages.common import accounts, field, render, requires, set_session_cookie


@requires(None)
def home(request: Request, current: Current, form: FormData | None) -> Response:
    links = [("/account/password", "Change your password")]
    if may(current.user.role, "admin"):
        links[:0] = [("/admin/users", "Users"), ("/admin/audit", "Audit log")]
    return render(request, "home.html", {"links": links}, current=current)


@requires(None)
def password_page(request: Request, current: Current, form: FormData | None) -> Response:
    return render(request, "password.html", {"errors": {}, "done": False}, current=current)


@requires(None)
def change_password(request: Request, current: Current, form: FormData | None) -> Response:
    """Your own password: the current one first; every other session of yours ends, and this
    one goes on under a new token."""
    console = accounts(request)
    user = current.user
    new = field(form, "new_password")
    errors = dict(_password_errors(console, current, form))
    if errors:
        context = {"errors": errors, "done": False}
        return render(request, "password.html", context, 400, current)
    console.store.change_user(user.id, password_hash=console.hash_password(new))
    ended = console.store.end_sessions_of(user.id, keep=current.session.id)
    console.store.audit(
        "password changed",
        actor_id=user.id,
        actor=user.username,
        target=user.username,
        detail={"other_sessions_ended": ended},
    )
    fresh, renewed = console.renew_session(user)
    response = render(request, "password.html", {"errors": {}, "done": True}, current=renewed)
    set_session_cookie(request, response, fresh.token)
    return response


def _password_errors(
    console: Accounts, current: Current, form: FormData | None
) -> list[tuple[str, str]]:
    """The first field of the form that is wrong, and why; none when all are right."""
    new = field(form, "new_password")
    if not console.verify(current.user, field(form, "current_password")):
        return [("current_password", "This is not your current password.")]
    if problem := password_problem(current.user.username, new):
        return [("new_password", problem)]
    if new != field(form, "confirm_password"):
        return [("confirm_password", "The two new passwords differ.")]
    return []


routes = [
    Route("/", home, methods=["GET"]),
    Route("/account/password", password_page, methods=["GET"]),
    Route("/account/password", change_password, methods=["POST"]),
]
