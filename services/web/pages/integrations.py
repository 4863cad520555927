"""``/admin/integrations`` (admin): the list, with each one's credential expiry reminder and
last connection test; delete and set the default. With ``MAILPIPE_CONFIG_SOURCE=file`` the
file's mailboxes, read-only. Every change is a row of the audit log (docs/console.md)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.common.db.integrations import Integrations
from libs.common.integration_rules import Integration
from services.web.auth import Current
from services.web.domain.expiry import reminder
from services.web.mailboxes import Mailboxes
from services.web.pages.common import accounts, refused, render, requires

READ_ONLY = (
    "These mailboxes come from the configuration file (MAILPIPE_CONFIG_SOURCE=file) and are "
    "read-only here. To edit them in the console: `mailpipe config import FILE`, then set "
    "MAILPIPE_CONFIG_SOURCE=database for every service and restart them."
)


def mailboxes_of(request: Request) -> Mailboxes:
    found: Mailboxes = request.app.state.mailboxes
    return found


def editable_store(request: Request) -> Integrations | None:
    source = mailboxes_of(request)
    return source.store if source.editable else None


def audit_integration(
    request: Request, current: Current, action: str, target: str, **detail: Any
) -> None:
    accounts(request).store.audit(
        action, actor_id=current.user.id, actor=current.user.username, target=target, detail=detail
    )


def _rows(request: Request, store: Integrations) -> list[dict[str, Any]]:
    today = accounts(request).clock().date()
    checks = store.last_checks()
    return [
        {
            "integration": item,
            "fields": item.fields,
            "reminder": reminder(item.fields.secret_expires_on, today),
            "check": checks.get(item.id),
        }
        for item in store.list()
    ]


def list_page(
    request: Request, current: Current, *, notice: str = "", error: str = "", status: int = 200
) -> Response:
    store = editable_store(request)
    context: dict[str, Any] = {"notice": notice, "error": error, "read_only": store is None}
    if store is None:
        context.update(
            read_only_text=READ_ONLY, file_mailboxes=mailboxes_of(request).file_mailboxes
        )
    else:
        context["rows"] = _rows(request, store)
    return render(request, "integrations.html", context, status, current)


@requires("admin")
def integrations_page(request: Request, current: Current, form: FormData | None) -> Response:
    return list_page(request, current)


def integration_of(
    request: Request, current: Current
) -> tuple[Integrations, Integration] | Response:
    """The store and the integration the path names, or the page that refuses."""
    store = editable_store(request)
    if store is None:
        return refused(request, 409, READ_ONLY, current)
    found = store.get(int(request.path_params["ident"]))
    if found is None:
        return list_page(request, current, error="There is no such integration.", status=404)
    return store, found


@requires("admin")
def delete_integration(request: Request, current: Current, form: FormData | None) -> Response:
    found = integration_of(request, current)
    if isinstance(found, Response):
        return found
    store, item = found
    store.delete(item.id)
    audit_integration(request, current, "integration deleted", item.fields.name)
    return list_page(request, current, notice=f"Deleted {item.fields.name}.")


@requires("admin")
def make_default(request: Request, current: Current, form: FormData | None) -> Response:
    found = integration_of(request, current)
    if isinstance(found, Response):
        return found
    store, item = found
    store.set_default(item.id)
    audit_integration(request, current, "integration made default", item.fields.name)
    return list_page(request, current, notice=f"{item.fields.name} is now the default.")


routes = [
    Route("/admin/integrations", integrations_page, methods=["GET"]),
    Route("/admin/integrations/{ident:int}/delete", delete_integration, methods=["POST"]),
    Route("/admin/integrations/{ident:int}/default", make_default, methods=["POST"]),
]
