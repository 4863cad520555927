"""``/health``: every integration's health at a glance, and ``/health.json`` (docs/console.md,
"Health"). Agents and admins may view; only admins see the fix hints."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from libs.common.db.mailbox_health import MailboxHealthStore
from libs.common.settings import Settings
from services.web.auth import Current
from services.web.domain.roles import may
from services.web.health_report import HealthReport, HealthSource, as_json
from services.web.pages.common import accounts, render, requires


def source(request: Request) -> HealthSource:
    """The app's health source; made from the environment on first use when the app was
    built without one."""
    state = request.app.state
    found: HealthSource | None = getattr(state, "health", None)
    if found is None:
        store = MailboxHealthStore(accounts(request).store.engine)
        found = state.health = HealthSource.from_settings(Settings(), store)
    return found


def _report(request: Request) -> HealthReport:
    return source(request).report(accounts(request).clock())


@requires("agent")
def health_page(request: Request, current: Current, form: FormData | None) -> Response:
    report = _report(request)
    context = {"report": report, "hints": may(current.user.role, "admin")}
    return render(request, "health.html", context, current=current)


@requires("agent")
def health_json(request: Request, current: Current, form: FormData | None) -> Response:
    report = _report(request)
    return JSONResponse(as_json(report, hints=may(current.user.role, "admin")))


routes = [
    Route("/health", health_page, methods=["GET"]),
    Route("/health.json", health_json, methods=["GET"]),
]
