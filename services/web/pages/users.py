"""``/admin/users`` (admin): list accounts, create one, disable or enable, change a role and
reset a password. An admin cannot disable or demote the last active admin; every change is a
row of the audit log."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.common.settings import mailbox_address
from services.web.auth import Accounts, Current
from services.web.domain.passwords import (
    display_name_problem,
    normalize_username,
    password_problem,
    username_problem,
)
from services.web.domain.roles import LAST_ADMIN, ROLES, last_admin_problem, parse_role
from services.web.pages.common import accounts, field, render, requires
from services.web.store import User, UsernameTaken

#: The largest id an account can have (a signed 64-bit column).
MAX_ID = 2**63 - 1


def _page(
    request: Request,
    current: Current,
    *,
    notice: str = "",
    error: str = "",
    errors: dict[str, str] | None = None,
    entered: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "users": accounts(request).store.users(),
        "roles": ROLES,
        "notice": notice,
        "error": error,
        "errors": errors or {},
        "entered": entered or {"role": "agent"},
    }
    return render(request, "users.html", context, status, current)


def _audit(console: Accounts, current: Current, action: str, target: User, **detail: Any) -> None:
    console.store.audit(
        action,
        actor_id=current.user.id,
        actor=current.user.username,
        target=target.username,
        detail=detail,
    )


@requires("admin")
def users_page(request: Request, current: Current, form: FormData | None) -> Response:
    return _page(request, current)


def _create_errors(username: str, display: str, password: str, role: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if problem := username_problem(username):
        errors["username"] = problem
    if problem := display_name_problem(display):
        errors["display_name"] = problem
    if parse_role(role) is None:
        errors["role"] = "Pick admin or agent."
    if problem := password_problem(username, password):
        errors["password"] = problem
    return errors


@requires("admin")
def create_user(request: Request, current: Current, form: FormData | None) -> Response:
    console = accounts(request)
    username = normalize_username(field(form, "username"))
    display, role = field(form, "display_name").strip(), field(form, "role")
    entered = {"username": username, "display_name": display, "role": role}
    errors = _create_errors(username, display, field(form, "password"), role)
    if not errors:
        try:
            hashed = console.hash_password(field(form, "password"))
            user = console.store.create_user(username, display, role, hashed)
        except UsernameTaken:
            errors["username"] = "This username is taken."
    if errors:
        return _page(request, current, errors=errors, entered=entered, status=400)
    _audit(console, current, "user created", user, role=role)
    return _page(request, current, notice=f"Created {user.username} ({role}).")


def _target(request: Request) -> User | None:
    user_id = int(request.path_params["user_id"])
    return accounts(request).store.user(user_id) if user_id <= MAX_ID else None


def _change(request: Request, current: Current, form: FormData | None) -> Response:
    """One change of one account, named by the last part of the path."""
    target = _target(request)
    if target is None:
        return _page(request, current, error="There is no such user.", status=404)
    change = request.path_params["change"]
    console = accounts(request)
    demotes = change == "disable" or (change == "role" and field(form, "role") != "admin")
    problem = demotes and last_admin_problem(console.store.active_admins(), target.active_admin)
    if problem:
        return _page(request, current, error=problem, status=409)
    handler = _CHANGES.get(change)
    if handler is None:
        return _page(request, current, error="There is no such change.", status=404)
    return handler(request, current, console, target, form)


def _disable(
    request: Request, current: Current, console: Accounts, target: User, form: FormData | None
) -> Response:
    if not console.store.change_keeping_an_admin(target.id, disabled=True):
        return _page(request, current, error=LAST_ADMIN, status=409)
    console.store.end_sessions_of(target.id)
    _audit(console, current, "user disabled", target)
    return _page(request, current, notice=f"Disabled {target.username}.")


def _enable(
    request: Request, current: Current, console: Accounts, target: User, form: FormData | None
) -> Response:
    console.store.change_user(target.id, disabled=False)
    _audit(console, current, "user enabled", target)
    return _page(request, current, notice=f"Enabled {target.username}.")


def _role(
    request: Request, current: Current, console: Accounts, target: User, form: FormData | None
) -> Response:
    role = parse_role(field(form, "role"))
    if role is None:
        return _page(request, current, error="Pick admin or agent.", status=400)
    if not console.store.change_keeping_an_admin(target.id, role=role):
        return _page(request, current, error=LAST_ADMIN, status=409)
    _audit(console, current, "role changed", target, before=target.role, after=role)
    return _page(request, current, notice=f"{target.username} is now {role}.")


def _reset(
    request: Request, current: Current, console: Accounts, target: User, form: FormData | None
) -> Response:
    password = field(form, "password")
    if problem := password_problem(target.username, password):
        return _page(request, current, error=f"{target.username}: {problem}", status=400)
    console.store.change_user(target.id, password_hash=console.hash_password(password))
    console.store.end_sessions_of(target.id, keep=current.session.id)
    _audit(console, current, "password reset", target)
    return _page(request, current, notice=f"Reset the password of {target.username}.")


def _email(
    request: Request, current: Current, console: Accounts, target: User, form: FormData | None
) -> Response:
    """The user's personal address (the one Send As is granted for); empty clears it."""
    entered = field(form, "personal_email").strip()
    try:
        address = mailbox_address(entered) if entered else None
    except ValueError:
        error = f"{target.username}: enter an email address such as name@example.com."
        return _page(request, current, error=error, status=400)
    console.store.change_user(target.id, personal_email=address)
    _audit(
        console,
        current,
        "personal email changed",
        target,
        before=target.personal_email,
        after=address,
    )
    return _page(
        request,
        current,
        notice=f"The personal email of {target.username} is {address or 'cleared'}.",
    )


_CHANGES = {
    "disable": _disable,
    "enable": _enable,
    "role": _role,
    "password": _reset,
    "email": _email,
}

routes = [
    Route("/admin/users", users_page, methods=["GET"]),
    Route("/admin/users", create_user, methods=["POST"]),
    Route("/admin/users/{user_id:int}/{change:str}", requires("admin")(_change), methods=["POST"]),
]
