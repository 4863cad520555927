"""``/records`` (agents and admins): the records a page at a time, newest activity first,
searched and filtered, with the counts per status; ``/records/{id}``: one record's thread
(text, sanitised HTML in a sandboxed frame, attachments), its requester's profile, its status
and its assigned agent, both changed by a form (post/redirect/get, audited), their history
shown as markers among the mails (docs/console.md, "History")."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.common.blobs import BlobStorage
from libs.common.contracts import BlobRef
from libs.common.db.record_views import STATUSES, RecordLine, RecordQuery, RecordViews
from libs.common.errors import MailpipeError
from services.web.auth import Current
from services.web.changes import ChangeDesk
from services.web.domain.history import Marker, marker_text, timeline
from services.web.pages.common import accounts, field, refused, render, requires, see_other
from services.web.pages.mail_html import thread_html
from services.web.pages.reply_form import reply_context, reply_states

PAGE_SIZE = 50
GONE = "There is no such record."
#: Content types a browser could run or render as a page: served as plain bytes instead.
_ACTIVE = ("html", "javascript", "ecmascript", "svg", "xml")
DONE = {
    "status": "The status is changed.",
    "assigned": "The assignment is changed.",
    "reply": "The reply is queued for the sender; its state shows in the thread.",
}


def _views(request: Request) -> RecordViews:
    views: RecordViews = request.app.state.records
    return views


def _desk(request: Request) -> ChangeDesk:
    desk: ChangeDesk = request.app.state.changes
    return desk


def _number(value: str | None, default: int = 1) -> int:
    return int(value) if value and value.isdigit() and 0 < int(value) < 10**9 else default


def _query(request: Request, current: Current) -> RecordQuery:
    params = request.query_params
    assigned = params.get("assigned", "")
    return RecordQuery(
        search=params.get("q", "").strip()[:200],
        status=params.get("status", "") if params.get("status") in STATUSES else "",
        mailbox=params.get("mailbox", "").strip()[:320],
        assigned=assigned if assigned in ("me", "none") else "",
        user_id=current.user.id,
    )


@requires("agent")
def records_page(request: Request, current: Current, form: FormData | None) -> Response:
    views = _views(request)
    query = _query(request, current)
    page = _number(request.query_params.get("page"))
    # Read first: a record made meanwhile is counted as new by the live notice, not missed.
    newest = request.app.state.versions.newest_record()
    lines, total = views.page(query, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    shown = (
        ("q", query.search),
        ("status", query.status),
        ("mailbox", query.mailbox),
        ("assigned", query.assigned),
    )
    context: dict[str, Any] = {
        "records": lines,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "query": query,
        "counts": views.counts(),
        "statuses": STATUSES,
        "mailboxes": views.mailboxes(),
        "agents": _agents(request),
        "filters": urlencode({k: v for k, v in shown if v}),
        "newest": newest,
    }
    return render(request, "records.html", context, current=current)


def _agents(request: Request) -> dict[int, str]:
    """Every console user's id and name, for the "assigned to" column and choice."""
    return {u.id: u.display_name or u.username for u in accounts(request).store.users()}


def thread_context(request: Request, record: RecordLine) -> dict[str, Any]:
    """What _record_facts.html and _thread.html show (the replies' states included): the
    page and its live updates (pages/record_events.py) render them from this alike."""
    views = _views(request)
    thread = thread_html(request, views.thread(record.id))
    markers = [
        Marker(
            c.id, c.changed_at, c.kind, marker_text(c.kind, c.old_value, c.new_value, c.changed_by)
        )
        for c in _desk(request).changes.history(record.id)
    ]
    return {
        "record": record,
        "thread": thread,
        "timeline": timeline(thread, markers, "received_at"),
        "agents": _agents(request),
        **reply_states(request, record),
    }


def record_context(request: Request, record: RecordLine) -> dict[str, Any]:
    """What the record page shows of ``record`` (the reply form's part aside)."""
    users = [u for u in accounts(request).store.users() if not u.disabled]
    return {
        **thread_context(request, record),
        "requester": _views(request).requester(record.requester_address),
        "statuses": STATUSES,
        "users": users,
        "notice": "",
    }


@requires("agent")
def record_page(request: Request, current: Current, form: FormData | None) -> Response:
    record_id: int = request.path_params["record_id"]
    # Read before the record: a change in between is sent again by the live updates, not lost.
    version = request.app.state.versions.version(record_id)
    record = _views(request).get(record_id)
    if record is None:
        return refused(request, 404, GONE, current)
    context = record_context(request, record)
    context["version"] = version or ""
    context["notice"] = DONE.get(request.query_params.get("done", ""), "")
    context.update(reply_context(request, current, record))
    return render(request, "record.html", context, current=current)


@requires("agent")
def change_status(request: Request, current: Current, form: FormData | None) -> Response:
    record_id: int = request.path_params["record_id"]
    status = field(form, "status")
    record = _views(request).get(record_id)
    if record is None:
        return refused(request, 404, GONE, current)
    if status not in STATUSES:
        return refused(request, 400, "Choose open, pending or closed.", current)
    _desk(request).set_status(record_id, status, current.user.username, current.user.id)
    _audit(
        request, current, "record status changed", record_id, {"from": record.status, "to": status}
    )
    return see_other(f"/records/{record_id}?done=status")


@requires("agent")
def change_assignment(request: Request, current: Current, form: FormData | None) -> Response:
    record_id: int = request.path_params["record_id"]
    record = _views(request).get(record_id)
    if record is None:
        return refused(request, 404, GONE, current)
    chosen = field(form, "assigned_to")
    agents = {u.id: u for u in accounts(request).store.users() if not u.disabled}
    user_id = int(chosen) if chosen.isdigit() else None
    if chosen and (user_id is None or user_id not in agents):
        return refused(request, 400, "Choose an active console user, or nobody.", current)
    _desk(request).assign(record_id, user_id, current.user.username, current.user.id)
    to = agents[user_id].username if user_id is not None else None
    _audit(request, current, "record assigned", record_id, {"to": to})
    return see_other(f"/records/{record_id}?done=assigned")


def _audit(
    request: Request, current: Current, action: str, record_id: int, detail: dict[str, Any]
) -> None:
    accounts(request).store.audit(
        action,
        actor_id=current.user.id,
        actor=current.user.username,
        target=f"record #{record_id}",
        detail=detail,
    )


def served_type(content_type: str) -> str:
    """The stored content type, unless a browser could run or render it (then plain bytes)."""
    lowered = content_type.strip().lower()
    if "/" not in lowered or any(word in lowered for word in _ACTIVE):
        return "application/octet-stream"
    return lowered


@requires("agent")
def attachment(request: Request, current: Current, form: FormData | None) -> Response:
    views = _views(request)
    record_id: int = request.path_params["record_id"]
    number: int = request.path_params["number"]
    found = [a for a in views.attachments(record_id) if a.number == number]
    blobs: BlobStorage | None = request.app.state.blobs
    if not found:
        return refused(request, 404, "There is no such attachment.", current)
    if blobs is None:
        return refused(request, 503, "The blob store is not available in this console.", current)
    item = found[0]
    try:
        data = blobs.get(BlobRef(sha256=item.sha256, size=item.size))
    except MailpipeError as exc:
        return refused(request, 503, f"The attachment cannot be read: {exc}", current)
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(item.name or 'attachment')}",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(data, media_type=served_type(item.content_type), headers=headers)


routes = [
    Route("/records", records_page, methods=["GET"]),
    Route("/records/{record_id:int}", record_page, methods=["GET"]),
    Route("/records/{record_id:int}/status", change_status, methods=["POST"]),
    Route("/records/{record_id:int}/assign", change_assignment, methods=["POST"]),
    Route("/records/{record_id:int}/attachments/{number:int}", attachment, methods=["GET"]),
]
