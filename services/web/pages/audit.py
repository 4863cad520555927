"""``/admin/audit`` (admin): the audit log, newest first, a page at a time."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.web.auth import Current
from services.web.pages.common import accounts, render, requires

PAGE_SIZE = 50


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and 0 < int(value) < 10**6 else 1


@requires("admin")
def audit_page(request: Request, current: Current, form: FormData | None) -> Response:
    page = _page_number(request.query_params.get("page"))
    entries, total = accounts(request).store.audit_page((page - 1) * PAGE_SIZE, PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    context = {"entries": entries, "page": page, "pages": pages, "total": total}
    return render(request, "audit.html", context, current=current)


routes = [Route("/admin/audit", audit_page, methods=["GET"])]
