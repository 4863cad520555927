"""``/dead-letters`` (admin): each dead-letter queue with its count and its messages (why, when,
attempts, which mail or job), and retry or drop per message and per queue, as ``mailpipe dead``
does. A broker that cannot be reached is said on the page. Every action is audited and
confirmed on the page the browser is sent to (post/redirect/get)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.common.broker.dead_view import RETRY_NOTES
from libs.common.errors import MailpipeError
from services.web.auth import Current
from services.web.dead_letters import Action, DeadLetterDesk, Done
from services.web.pages.common import accounts, field, refused, render, requires, see_other

ACTIONS: dict[str, Action] = {"retry": "retry", "drop": "drop"}
#: The confirmations a redirect may ask for (the numbers and names checked, never echoed).
DONE = {
    "retry": "Retried {count} from the {queue} dead-letter queue back to its work queue.",
    "drop": "Dropped {count} from the {queue} dead-letter queue for good.",
}


def _desk(request: Request) -> DeadLetterDesk | None:
    desk: DeadLetterDesk | None = getattr(request.app.state, "dead_letters", None)
    return desk


def _notice(request: Request, known: set[str]) -> str:
    params = request.query_params
    template = DONE.get(params.get("done", ""))
    count, queue = params.get("count", ""), params.get("queue", "")
    if template is None or not count.isdigit() or queue not in known:
        return ""
    return template.format(count=int(count), queue=queue)


def _page(
    request: Request,
    current: Current,
    *,
    error: str = "",
    status: int = 200,
    unconfirmed: str = "",
) -> Response:
    desk = _desk(request)
    if desk is None:
        return refused(request, 503, "Dead letters are not available in this console.", current)
    queues, broker_error = [], ""
    try:
        queues = desk.queues()
    except MailpipeError as exc:
        broker_error = f"The dead-letter queues cannot be read: {exc}"
    notice = _notice(request, {q.short for q in queues})
    note = RETRY_NOTES.get(request.query_params.get("note", ""), "") if notice else ""
    context = {
        "queues": queues,
        "broker_error": broker_error,
        "notice": notice,
        "note": note,
        "error": error,
        "unconfirmed": unconfirmed,
    }
    return render(request, "dead_letters.html", context, status, current)


@requires("admin")
def dead_letters_page(request: Request, current: Current, form: FormData | None) -> Response:
    return _page(request, current)


def _confirmation(done: Done) -> str:
    query = {"done": done.action, "count": done.count, "queue": done.queue}
    if done.note:
        query["note"] = done.queue
    return "/dead-letters?" + urlencode(query)


@requires("admin")
def act(request: Request, current: Current, form: FormData | None) -> Response:
    desk = _desk(request)
    action = ACTIONS.get(request.path_params["action"])
    if desk is None or action is None:
        return refused(request, 404, "There is no such action.", current)
    key, every = field(form, "id").strip(), field(form, "every") == "yes"
    if bool(key) == every:
        return _page(request, current, error="Name one message, or every message.", status=400)
    if action == "drop" and every and field(form, "confirm") != "yes":
        queue = request.path_params["queue"]
        return _page(request, current, status=400, unconfirmed=queue)
    try:
        done = desk.act(action, request.path_params["queue"], key or None)
    except MailpipeError as exc:
        return _page(request, current, error=f"Nothing done: {exc}", status=409)
    if key and not done.count:
        error = f"{key!r} left the dead-letter queue meanwhile; nothing done."
        return _page(request, current, error=error, status=409)
    accounts(request).store.audit(
        f"dead letters {'retried' if action == 'retry' else 'dropped'}",
        actor_id=current.user.id,
        actor=current.user.username,
        target=f"dead-letter queue {done.queue}",
        detail={"message": key or "every message", "count": done.count},
    )
    return see_other(_confirmation(done))


routes = [
    Route("/dead-letters", dead_letters_page, methods=["GET"]),
    Route("/dead-letters/{queue:str}/{action:str}", act, methods=["POST"]),
]
