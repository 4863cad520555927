"""``POST /admin/integrations/{id}/test`` (admin): "Test connection". Without JavaScript the
page comes back with every step's ✓/✗ and fix; the static connection-test.js asks for
``text/event-stream`` instead and shows each step as it finishes. Either way the result is
kept as the integration's last test (shown on the list), and an audit row says it ran."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from libs.common.db.integrations import Integrations
from libs.common.errors import MailpipeError
from libs.common.integration_rules import Integration
from libs.common.settings import mailbox_address
from services.web.auth import Current
from services.web.connection_test import TestRequest, run_steps
from services.web.pages.common import field, requires
from services.web.pages.integration_edit import form_page
from services.web.pages.integrations import audit_integration, integration_of, mailboxes_of

_ADDRESSES = {"outside_mailbox": "outside_mailbox", "send_test_to": "send_test_to"}


def _asked(form: FormData | None) -> tuple[TestRequest, dict[str, str], dict[str, str]]:
    """The optional steps asked for, what was typed, and the errors by field."""
    typed = {name: field(form, name).strip() for name in _ADDRESSES}
    typed["send_test"] = "on" if field(form, "send_test") == "on" else ""
    errors: dict[str, str] = {}
    if typed["send_test"] and not typed["send_test_to"]:
        errors["send_test_to"] = "give the address the test message goes to"
    for name in _ADDRESSES:
        if typed[name]:
            try:
                typed[name] = mailbox_address(typed[name])
            except ValueError as exc:
                errors[name] = str(exc)
    to = typed["send_test_to"] if typed["send_test"] else ""
    return TestRequest(typed["outside_mailbox"], to), typed, errors


def _steps(
    request: Request, current: Current, store: Integrations, item: Integration, asked: TestRequest
) -> Iterator[dict[str, Any]]:
    """The steps as they finish; the last result kept and audited once all have run."""
    mailboxes = mailboxes_of(request)
    done: list[dict[str, Any]] = []
    try:
        box = mailboxes.opened(item.id)
    except MailpipeError as exc:  # a secret sealed with another key, a rule since tightened
        done.append({"step": "settings", "ok": False, "detail": exc.message, "fix": exc.hint or ""})
        yield done[0]
    else:
        for row in run_steps(mailboxes, box, asked):
            done.append(row)
            yield row
    last = store.record_check(item.id, done)
    outcome = {s["step"]: s["ok"] for s in done}
    audit_integration(
        request, current, "connection tested", item.fields.name, ok=last.ok, steps=outcome
    )


def _events(steps: Iterator[dict[str, Any]]) -> Iterator[str]:
    for row in steps:
        yield f"event: step\ndata: {json.dumps(row, ensure_ascii=False)}\n\n"
    yield "event: done\ndata: {}\n\n"


@requires("admin")
def test_connection(request: Request, current: Current, form: FormData | None) -> Response:
    found = integration_of(request, current)
    if isinstance(found, Response):
        return found
    store, item = found
    asked, typed, errors = _asked(form)
    if errors:
        return form_page(request, current, item, test=typed, test_errors=errors, status=400)
    steps = _steps(request, current, store, item, asked)
    if "text/event-stream" in request.headers.get("accept", ""):
        return StreamingResponse(_events(steps), media_type="text/event-stream")
    results = list(steps)
    return form_page(request, current, item, results=results, test=typed)


routes = [
    Route("/admin/integrations/{ident:int}/test", test_connection, methods=["POST"]),
]
