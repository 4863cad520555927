"""``/quarantine`` (admin): the mail the ticketer gave up on, newest first, a page at a time,
filtered by mailbox and reason (or the entries dropped); one entry's mail (headers, text,
sanitised HTML in a sandboxed frame, attachments); replay and drop, as ``mailpipe quarantine
replay`` and ``drop`` do. Every replay and drop is audited and confirmed on the page the
browser is sent to (post/redirect/get)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.common.db.quarantine import EntryDropped, QuarantineRow, refuse_dropped
from libs.common.errors import MailpipeError
from services.web.auth import Current
from services.web.pages.common import accounts, field, refused, render, requires, see_other
from services.web.quarantine import MailView, QuarantineDesk

PAGE_SIZE = 50

#: The confirmations a redirect may ask for (never text from the query string).
DONE = {
    "replayed": "Replayed entry {entry}: its mail is back in the mailbox's folder.",
    "dropped": "Dropped entry {entry}: its mail was deleted from the quarantine folder.",
    "dropped-gone": "Dropped entry {entry}: its mail was already gone from the quarantine folder.",
}
GONE = "There is no such quarantine entry (any more)."
CONFIRM = "Tick the box to confirm that you have looked at this mail and it is not wanted."


def _desk(request: Request) -> QuarantineDesk | None:
    desk: QuarantineDesk | None = getattr(request.app.state, "quarantine", None)
    return desk


def _number(value: str | None, default: int = 1) -> int:
    return int(value) if value and value.isdigit() and 0 < int(value) < 10**9 else default


def _notice(request: Request) -> str:
    template = DONE.get(request.query_params.get("done", ""))
    return template.format(entry=_number(request.query_params.get("entry"))) if template else ""


def _unavailable(request: Request, current: Current) -> Response:
    return refused(request, 503, "The quarantine is not available in this console.", current)


@requires("admin")
def quarantine_page(request: Request, current: Current, form: FormData | None) -> Response:
    desk = _desk(request)
    if desk is None:
        return _unavailable(request, current)
    page = _number(request.query_params.get("page"))
    mailbox = request.query_params.get("mailbox", "").strip()
    reason = request.query_params.get("reason", "").strip()
    dropped = request.query_params.get("show") == "dropped"
    entries, total = desk.book.page(
        (page - 1) * PAGE_SIZE, PAGE_SIZE, mailbox=mailbox, reason=reason, dropped=dropped
    )
    shown = (("mailbox", mailbox), ("reason", reason), ("show", "dropped" if dropped else ""))
    mailboxes, reasons = desk.book.choices(dropped=dropped)
    context: dict[str, Any] = {
        "entries": entries,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "mailbox": mailbox,
        "reason": reason,
        "mailboxes": mailboxes,
        "reasons": reasons,
        "dropped": dropped,
        "filters": urlencode({k: v for k, v in shown if v}),
        "notice": _notice(request),
    }
    return render(request, "quarantine.html", context, current=current)


def _entry_page(
    request: Request,
    current: Current,
    entry: QuarantineRow,
    *,
    error: str = "",
    status: int = 200,
    drop: dict[str, str] | None = None,
) -> Response:
    desk = _desk(request)
    assert desk is not None
    mail: MailView | None = None
    mail_error = ""
    try:
        mail = desk.mail(entry)
    except MailpipeError as exc:
        mail_error = f"The mail cannot be shown: {exc}"
    context = {
        "entry": entry,
        "mail": mail,
        "mail_error": mail_error,
        "error": error,
        "drop": drop or {"note": "", "error": ""},
    }
    return render(request, "quarantine_entry.html", context, status, current)


@requires("admin")
def entry_page(request: Request, current: Current, form: FormData | None) -> Response:
    found = _waiting(request, current)
    if isinstance(found, Response):
        return found
    return _entry_page(request, current, found[1])


def _waiting(request: Request, current: Current) -> Response | tuple[QuarantineDesk, QuarantineRow]:
    """The desk and the waiting entry the path names, or the page that says why not."""
    desk = _desk(request)
    if desk is None:
        return _unavailable(request, current)
    entry = desk.book.get(request.path_params["entry_id"])
    if entry is None or entry.state != "waiting":
        return refused(request, 404, GONE, current)
    return desk, entry


@requires("admin")
def replay_entry(request: Request, current: Current, form: FormData | None) -> Response:
    desk = _desk(request)
    if desk is None:
        return _unavailable(request, current)
    entry = desk.book.get(request.path_params["entry_id"])
    if entry is None or entry.replayed_at is not None:
        return refused(request, 404, GONE, current)
    try:
        refuse_dropped(entry)
    except EntryDropped as exc:
        return refused(request, 409, f"Not replayed: {exc}", current)
    try:
        done = desk.replay(entry)
    except MailpipeError as exc:
        return _entry_page(request, current, entry, error=f"Not replayed: {exc}", status=409)
    accounts(request).store.audit(
        "quarantine replayed",
        actor_id=current.user.id,
        actor=current.user.username,
        target=f"quarantine entry {entry.id}",
        detail={"mailbox": entry.mailbox, "subject": entry.subject, "done": done},
    )
    return see_other("/quarantine?" + urlencode({"done": "replayed", "entry": entry.id}))


@requires("admin")
def drop_entry(request: Request, current: Current, form: FormData | None) -> Response:
    found = _waiting(request, current)
    if isinstance(found, Response):
        return found
    desk, entry = found
    note = field(form, "note").strip()
    if field(form, "confirm") != "yes":
        drop = {"note": note, "error": CONFIRM}
        return _entry_page(request, current, entry, status=400, drop=drop)
    try:
        done = desk.drop(entry, current.user.username, note)
    except MailpipeError as exc:
        drop = {"note": note, "error": ""}
        return _entry_page(
            request, current, entry, error=f"Not dropped: {exc}", status=409, drop=drop
        )
    accounts(request).store.audit(
        "quarantine dropped",
        actor_id=current.user.id,
        actor=current.user.username,
        target=f"quarantine entry {entry.id}",
        detail={
            "mailbox": entry.mailbox,
            "subject": entry.subject,
            "note": note,
            "done": done.line,
        },
    )
    flash = "dropped-gone" if done.already_gone else "dropped"
    return see_other("/quarantine?" + urlencode({"done": flash, "entry": entry.id}))


routes = [
    Route("/quarantine", quarantine_page, methods=["GET"]),
    Route("/quarantine/{entry_id:int}", entry_page, methods=["GET"]),
    Route("/quarantine/{entry_id:int}/replay", replay_entry, methods=["POST"]),
    Route("/quarantine/{entry_id:int}/drop", drop_entry, methods=["POST"]),
]
