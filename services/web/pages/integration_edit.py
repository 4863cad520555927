"""The integration form (admin): ``/admin/integrations/new`` and ``/admin/integrations/{id}``.
Validation is :mod:`libs.common.integration_rules`'; every wrong field is shown at once, by its
field and in a summary at the top of the form linking to each; the form keeps what was typed,
the secret and uploads excepted. Secrets are write-only: never rendered, logged or audited
(the audit row names the changed fields only)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.common.integration_rules import Integration, IntegrationInvalid, problems
from services.web.auth import Current
from services.web.integration_form import (
    HELP,
    LABELS,
    changed_fields,
    entered_of,
    in_form_order,
    read_form,
    with_people,
)
from services.web.pages.common import accounts, refused, render, requires, see_other
from services.web.pages.integrations import (
    READ_ONLY,
    audit_integration,
    editable_store,
    integration_of,
)

#: Where a refusal of integration_rules is shown: its field name, or the input that holds it.
_INPUT_OF = {"secret": "client_secret", "send_as_fallback": "send_as"}


def form_page(
    request: Request,
    current: Current,
    item: Integration | None,
    *,
    entered: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    **extra: Any,
) -> Response:
    store = editable_store(request)
    last = store.last_checks().get(item.id) if store and item else None
    people = [u for u in accounts(request).store.users() if not u.disabled]
    emails = {u.personal_email for u in people if u.personal_email}
    context: dict[str, Any] = {
        "item": item,
        "entered": with_people(entered if entered is not None else entered_of(item), emails),
        "people": people,
        "errors": errors or {},
        "labels": LABELS,
        "help": HELP,
        "last_check": last,
        "notice": "",
        "results": None,
        "test": {},
    }
    context.update(extra)
    return render(request, "integration.html", context, status, current)


@requires("admin")
def new_page(request: Request, current: Current, form: FormData | None) -> Response:
    if editable_store(request) is None:
        return refused(request, 409, READ_ONLY, current)
    return form_page(request, current, None)


@requires("admin")
def edit_page(request: Request, current: Current, form: FormData | None) -> Response:
    found = integration_of(request, current)
    if isinstance(found, Response):
        return found
    saved = (
        "Saved. Run Test connection to check it live." if request.query_params.get("saved") else ""
    )
    return form_page(request, current, found[1], notice=saved or "")


def _save(request: Request, current: Current, form: FormData, item: Integration | None) -> Response:
    store = editable_store(request)
    mailboxes = request.app.state.mailboxes
    if store is None:
        return refused(request, 409, READ_ONLY, current)
    fields, entered, errors = read_form(form, item)
    same_kind = item is not None and item.fields.credential_kind == fields.credential_kind
    for found in problems(fields, stored_secret=same_kind).values():
        errors.setdefault(*_shown(found))
    if not errors:
        try:
            saved = store.save(fields, mailboxes.box, item.id if item else None)
        except IntegrationInvalid as exc:
            errors.setdefault(*_shown(exc))
    if errors:
        errors = in_form_order(errors)
        return form_page(request, current, item, entered=entered, errors=errors, status=400)
    changed = changed_fields(item.fields if item else None, fields)
    action = "integration updated" if item else "integration created"
    audit_integration(request, current, action, saved.fields.name, fields=changed)
    return see_other(f"/admin/integrations/{saved.id}?saved=1")


def _shown(exc: IntegrationInvalid) -> tuple[str, str]:
    """The input a refusal is shown by, and its text with the hint (never a value typed)."""
    where = exc.field.split(".")[0]
    text = exc.message.split(": ", 1)[-1]
    return _INPUT_OF.get(where, where), text + (f" ({exc.hint})" if exc.hint else "")


@requires("admin")
def create(request: Request, current: Current, form: FormData | None) -> Response:
    assert form is not None
    return _save(request, current, form, None)


@requires("admin")
def update(request: Request, current: Current, form: FormData | None) -> Response:
    found = integration_of(request, current)
    if isinstance(found, Response):
        return found
    assert form is not None
    return _save(request, current, form, found[1])


routes = [
    Route("/admin/integrations", create, methods=["POST"]),
    Route("/admin/integrations/new", new_page, methods=["GET"]),
    Route("/admin/integrations/{ident:int}", edit_page, methods=["GET"]),
    Route("/admin/integrations/{ident:int}", update, methods=["POST"]),
]
