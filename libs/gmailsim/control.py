"""The control API under ``/_sim`` (no auth), the same shape as the Graph simulator's: seed
mail, inspect mailboxes and sent mail, grant send-as aliases, expire history ids, set faults,
read statistics, reset; and Google's side: users and their directory profiles, service
accounts, their keys, and the domain-wide delegation of the Admin console."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from libs.gmailsim.accounts import new_account, new_key
from libs.gmailsim.state import Mailbox
from libs.gmailsim.world import World
from libs.simkit.control import ControlError, MissingError, error_json, json_object

#: A user's directory profile as ``POST /_sim/users`` takes it → the person's attribute.
PROFILE_FIELDS = {"department": "department", "job_title": "title", "phone": "phone"}
#: Labels seeded mail gets unless ``?labels=`` says otherwise: new mail in the inbox.
SEED_LABELS = "INBOX,UNREAD"


def _received_ms(request: Request) -> int | None:
    received = request.query_params.get("received")
    if not received:
        return None
    try:
        when = dt.datetime.fromisoformat(received.replace("Z", "+00:00"))
    except ValueError:
        raise ControlError("received must be an ISO 8601 date-time") from None
    return int(when.timestamp() * 1000)


class _Control:
    def __init__(self, world: World) -> None:
        self.world = world

    def _box(self, request: Request) -> Mailbox:
        box = self.world.mailbox(request.path_params["address"])
        if box is None:
            raise MissingError(f"no such mailbox: {request.path_params['address']}")
        return box

    async def info(self, request: Request) -> Response:
        with self.world.lock:
            return JSONResponse({"mailboxes": sorted(self.world.mailboxes)})

    async def seed(self, request: Request) -> Response:
        raw = await request.body()
        when = _received_ms(request)
        names = request.query_params.get("labels", SEED_LABELS).split(",")
        with self.world.lock:
            box = self._box(request)
            labels = set()
            for name in filter(None, names):
                label = box.label(name) or box.add_label(name)
                labels.add(label.id)
            msg = self.world.seed(box, raw, labels, when)
            body = {
                "id": msg.id,
                "threadId": msg.thread_id,
                "historyId": str(msg.history_id),
                "labelIds": sorted(msg.label_ids),
            }
        return JSONResponse(body, status_code=201)

    async def mailbox(self, request: Request) -> Response:
        with self.world.lock:
            box = self._box(request)
            return JSONResponse(
                {"labels": box.counts(), "sent": len(box.sent), "historyId": str(box.history_id)}
            )

    async def sent(self, request: Request) -> Response:
        with self.world.lock:
            return JSONResponse(self._box(request).sent)

    async def label_messages(self, request: Request) -> Response:
        with self.world.lock:
            box = self._box(request)
            label = box.label(request.path_params["label"])
            if label is None:
                return error_json(404, "no such label")
            found = [m for m in box.messages.values() if label.id in m.label_ids]
            found.sort(key=lambda m: (m.internal_date_ms, m.history_id))
            return JSONResponse(
                [
                    {
                        "id": m.id,
                        "threadId": m.thread_id,
                        "subject": m.parsed.subject,
                        "internetMessageId": m.parsed.message_id,
                        "internalDate": str(m.internal_date_ms),
                        "labelIds": sorted(m.label_ids),
                    }
                    for m in found
                ]
            )

    async def events(self, request: Request) -> Response:
        with self.world.lock:
            events = self._box(request).events
            body = [{"at": at, "kind": kind, "folder": f, "id": i} for at, kind, f, i in events]
        return JSONResponse(body)

    async def send_as(self, request: Request) -> Response:
        data = await json_object(request)
        with self.world.lock:
            box = self._box(request)
            box.send_as = {str(a).lower(): "pending" for a in data.get("pending") or []}
            box.send_as |= {str(a).lower(): "accepted" for a in data.get("allowed") or []}
            allowed = sorted(a for a, s in box.send_as.items() if s == "accepted")
            pending = sorted(a for a, s in box.send_as.items() if s == "pending")
            return JSONResponse({"allowed": allowed, "pending": pending})

    async def gmail_service(self, request: Request) -> Response:
        """The Admin console's Gmail service status for the user (off also stands for a
        suspended user: Gmail answers both alike)."""
        enabled = (await json_object(request)).get("enabled")
        if not isinstance(enabled, bool):
            return error_json(400, "enabled must be true or false")
        with self.world.lock:
            self._box(request).gmail_enabled = enabled
        return JSONResponse({"enabled": enabled})

    async def expire_history(self, request: Request) -> Response:
        with self.world.lock:
            self._box(request).expire_history()
        return Response(status_code=204)

    async def faults(self, request: Request) -> Response:
        with self.world.lock:
            if request.method == "POST":
                try:
                    self.world.faults.update(await json_object(request), self.world.rng)
                except (TypeError, ValueError) as exc:
                    return error_json(400, str(exc))
            return JSONResponse(self.world.faults.as_dict())

    async def stats(self, request: Request) -> Response:
        with self.world.lock:
            return JSONResponse(self.world.stats.as_dict())

    async def reset(self, request: Request) -> Response:
        self.world.reset()
        return Response(status_code=204)

    async def users(self, request: Request) -> Response:
        data = await json_object(request)
        address = str(data.get("address") or "")
        if "@" not in address:
            return error_json(400, "address is required")
        with self.world.lock:
            box = self.world.add_mailbox(address)
            person = self.world.people[box.address]
            if data.get("display_name"):
                person.full_name = str(data["display_name"])
            for key, attr in PROFILE_FIELDS.items():
                if key in data:
                    setattr(person, attr, None if data[key] is None else str(data[key]))
        return JSONResponse({"id": person.id, "address": box.address}, status_code=201)

    async def new_account(self, request: Request) -> Response:
        data = await json_object(request)
        with self.world.lock:
            account = new_account(str(data.get("name") or "sim-account"))
            self.world.add_account(account, tuple(str(s) for s in data.get("scopes") or ()))
            key = new_key(account, self.world.token_uri)
        return JSONResponse(key, status_code=201)

    async def new_key(self, request: Request) -> Response:
        with self.world.lock:
            account = self.world.account_by_id(request.path_params["client_id"])
            if account is None:
                return error_json(404, "no such service account")
            key = new_key(account, self.world.token_uri)
        return JSONResponse(key, status_code=201)

    async def delete_key(self, request: Request) -> Response:
        with self.world.lock:
            account = self.world.account_by_id(request.path_params["client_id"])
            if account is None or account.keys.pop(request.path_params["key_id"], None) is None:
                return error_json(404, "no such service account key")
        return Response(status_code=204)

    async def delegation(self, request: Request) -> Response:
        client_id = request.path_params["client_id"]
        if request.method == "DELETE":
            with self.world.lock:
                self.world.delegation.pop(client_id, None)
            return Response(status_code=204)
        scopes = frozenset(str(s) for s in (await json_object(request)).get("scopes") or [])
        with self.world.lock:
            self.world.delegation[client_id] = scopes
        return JSONResponse({"client_id": client_id, "scopes": sorted(scopes)})


def routes(world: World) -> list[Route]:
    c = _Control(world)
    box = "/_sim/mailboxes/{address}"
    accounts = "/_sim/service-accounts/{client_id}"
    return [
        Route("/_sim", c.info, methods=["GET"]),
        Route(f"{box}/messages", c.seed, methods=["POST"]),
        Route(box, c.mailbox, methods=["GET"]),
        Route(f"{box}/sent", c.sent, methods=["GET"]),
        Route(f"{box}/labels/{{label}}/messages", c.label_messages, methods=["GET"]),
        Route(f"{box}/events", c.events, methods=["GET"]),
        Route(f"{box}/send-as", c.send_as, methods=["PUT"]),
        Route(f"{box}/expire-history", c.expire_history, methods=["POST"]),
        Route(f"{box}/gmail-service", c.gmail_service, methods=["PUT"]),
        Route("/_sim/faults", c.faults, methods=["GET", "POST"]),
        Route("/_sim/stats", c.stats, methods=["GET"]),
        Route("/_sim/reset", c.reset, methods=["POST"]),
        Route("/_sim/users", c.users, methods=["POST"]),
        Route("/_sim/service-accounts", c.new_account, methods=["POST"]),
        Route(f"{accounts}/keys", c.new_key, methods=["POST"]),
        Route(f"{accounts}/keys/{{key_id}}", c.delete_key, methods=["DELETE"]),
        Route("/_sim/delegation/{client_id}", c.delegation, methods=["PUT", "DELETE"]),
    ]
