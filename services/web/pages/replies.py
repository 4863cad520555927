"""``POST /records/{id}/reply`` (agents and admins): a reply to the record's requester, sent
through the sender as an ``OutboundEmail`` job (post/redirect/get, audited). A From the agent
may not choose, a missing text or too large files: the record page again, 400, each error by
its field, what was typed kept (the files excepted)."""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.common.db.record_views import RecordLine, RecordViews
from libs.common.errors import BrokerError, MailpipeError, UnroutableError
from services.web.auth import Current
from services.web.domain.replying import MAX_FILE_BYTES, MAX_FILES, Draft, Upload, problems
from services.web.pages.common import accounts, field, refused, render, requires, see_other
from services.web.pages.records import GONE, record_context
from services.web.pages.reply_form import choices_of, desk, reply_context
from services.web.replies import NoBlobStore, Sent

NOT_HANDED = (
    "The reply is kept but the sender could not be reached ({code}); send the form again "
    "(it stays one reply) or ask an admin to check the broker."
)


def _files(form: FormData) -> tuple[Upload, ...]:
    """The uploaded files (an empty file input sends one without a name: skipped). Each is
    read up to one byte over the limit, enough to refuse it."""
    found = []
    for item in form.getlist("attachments")[: MAX_FILES + 1]:
        if isinstance(item, UploadFile) and item.filename:
            data = item.file.read(MAX_FILE_BYTES + 1)
            found.append(Upload(item.filename, item.content_type or "", data))
    return tuple(found)


def _draft(form: FormData) -> Draft:
    return Draft(
        text=field(form, "text").replace("\r\n", "\n"),
        from_address=field(form, "from_address").strip(),
        key=field(form, "key"),
        files=_files(form),
    )


def _again(
    request: Request, current: Current, record: RecordLine, draft: Draft, errors: dict[str, str]
) -> Response:
    entered = {"key": draft.key, "text": draft.text, "from": draft.from_address}
    context = record_context(request, record)
    context["version"] = request.app.state.versions.version(record.id) or ""
    context.update(reply_context(request, current, record, errors=errors, entered=entered))
    status = 503 if "broker" in errors else 400
    return render(request, "record.html", context, status, current)


@requires("agent", uploads=True)
def reply(request: Request, current: Current, form: FormData | None) -> Response:
    assert form is not None
    views: RecordViews = request.app.state.records
    record = views.get(request.path_params["record_id"])
    if record is None:
        return refused(request, 404, GONE, current)
    if not record.requester_address:
        return refused(request, 409, "This record has no requester address to reply to.", current)
    draft = _draft(form)
    errors = problems(draft, choices_of(request, current, record))
    if errors:
        return _again(request, current, record, draft, errors)
    try:
        sent = desk(request).store(record, draft, current.user.id, current.user.username)
    except NoBlobStore as exc:  # a large file and nowhere to put it: said by the files
        hint = f" ({exc.hint})" if exc.hint else ""
        return _again(request, current, record, draft, {"attachments": f"Not sent: {exc}{hint}"})
    except MailpipeError as exc:  # the contract refused a value
        hint = f" ({exc.hint})" if exc.hint else ""
        return _again(request, current, record, draft, {"text": f"Not sent: {exc}{hint}"})
    if sent.new:
        _audit(request, current, record, sent)
    try:
        desk(request).publish(sent)
    except (BrokerError, UnroutableError) as exc:
        return _again(request, current, record, draft, {"broker": NOT_HANDED.format(code=exc.code)})
    return see_other(f"/records/{record.id}?done=reply")


def _audit(request: Request, current: Current, record: RecordLine, sent: Sent) -> None:
    accounts(request).store.audit(
        "record replied",
        actor_id=current.user.id,
        actor=current.user.username,
        target=f"record #{record.id}",
        detail={
            "job_id": sent.job.job_id,
            "from": sent.job.from_address or sent.job.mailbox,
            "attachments": len(sent.job.attachments),
        },
    )


routes = [Route("/records/{record_id:int}/reply", reply, methods=["POST"])]
