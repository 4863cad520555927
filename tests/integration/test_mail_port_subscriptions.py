"""The mail port's change subscriptions (``MailSubscriptions``): the same checks against the
shared fake and against the Graph adapter on a stand-in of Graph's ``/subscriptions`` routes
(an httpx MockTransport speaking Graph v1.0's wire format). The simulator's routes are
tested in ``test_graphsim_subscriptions.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from libs.common.mail import MailNotFound, MailPermanentError, MailSubscriptions
from tests.mail_fake import FakeMailbox
from tests.mail_fake_subscriptions import MAX_LIFETIME, SubscriptionRefused
from tests.unit.graph_helpers import graph_error, make_mail

BOX = "help@contoso.test"
URL = "https://hooks.example.com/graph"
LIFECYCLE = f"{URL}/lifecycle"


class GraphSubscriptions:
    """Graph's ``/subscriptions`` as the documentation has it, in memory."""

    def __init__(self) -> None:
        self.subs: dict[str, dict[str, Any]] = {}
        self.refuse = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1.0")
        body = json.loads(request.content) if request.content else {}
        if request.method == "POST" and path == "/subscriptions":
            return self._create(body)
        sub_id = path.split("/")[2]
        if sub_id not in self.subs:
            return graph_error(404, "ResourceNotFound")
        if request.method == "PATCH":
            self.subs[sub_id]["expirationDateTime"] = self._granted(body["expirationDateTime"])
            return httpx.Response(200, json=self.subs[sub_id])
        if request.method == "GET":
            return httpx.Response(200, json=self.subs[sub_id])
        if request.method == "DELETE":
            del self.subs[sub_id]
        return httpx.Response(204)  # DELETE, POST .../reauthorize

    def _create(self, body: dict[str, Any]) -> httpx.Response:
        if self.refuse:  # Graph could not validate the notification URL
            return graph_error(400, "ValidationError")
        sub_id = f"g-{len(self.subs) + 1}"
        expiry = self._granted(body["expirationDateTime"])
        self.subs[sub_id] = {**body, "id": sub_id, "expirationDateTime": expiry}
        return httpx.Response(201, json=self.subs[sub_id])

    @staticmethod
    def _granted(asked: str) -> str:
        most = datetime.now(UTC) + MAX_LIFETIME
        when = min(datetime.fromisoformat(asked[:26] + "+00:00"), most)
        return when.strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


class Backend:
    def __init__(self, port: MailSubscriptions, refuse: Any, remove: Any) -> None:
        self.port, self.refuse, self.remove = port, refuse, remove


@pytest.fixture(params=["graph", "fake"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "fake":
        fake = FakeMailbox(address=BOX)
        yield Backend(
            fake,
            lambda: fake.refuse_with.append(SubscriptionRefused("no validation answer")),
            fake.remove_subscription,
        )
        return
    graph = GraphSubscriptions()
    mail, *_ = make_mail(graph, address=BOX)

    def refuse() -> None:
        graph.refuse = True

    yield Backend(mail, refuse, graph.subs.pop)
    mail.close()


def subscribe(port: MailSubscriptions, lifetime: timedelta = timedelta(hours=1)) -> Any:
    return port.subscribe(
        "inbox",
        notification_url=URL,
        lifecycle_url=LIFECYCLE,
        client_state="s" * 32,
        expires_at=datetime.now(UTC) + lifetime,
    )


def test_subscribe_answers_an_id_and_the_granted_expiry(backend: Backend) -> None:
    sub = subscribe(backend.port)
    assert sub.id
    left = sub.expires_at - datetime.now(UTC)
    assert timedelta(minutes=58) < left <= timedelta(hours=1)


def test_the_provider_grants_less_than_a_long_lifetime(backend: Backend) -> None:
    sub = subscribe(backend.port, timedelta(days=30))
    assert sub.expires_at <= datetime.now(UTC) + MAX_LIFETIME


def test_renew_moves_the_expiry_and_reauthorize_keeps_it(backend: Backend) -> None:
    sub = subscribe(backend.port)
    later = backend.port.renew(sub.id, datetime.now(UTC) + timedelta(hours=2))
    assert later.id == sub.id and later.expires_at > sub.expires_at
    backend.port.reauthorize(sub.id)


def test_a_removed_subscription_is_not_found(backend: Backend) -> None:
    sub = subscribe(backend.port)
    assert backend.port.subscription(sub.id) == sub
    backend.remove(sub.id)
    with pytest.raises(MailNotFound):
        backend.port.subscription(sub.id)
    with pytest.raises(MailNotFound):
        backend.port.renew(sub.id, datetime.now(UTC) + timedelta(hours=1))
    with pytest.raises(MailNotFound):
        backend.port.reauthorize(sub.id)
    assert backend.port.unsubscribe(sub.id) is False


def test_unsubscribe_once(backend: Backend) -> None:
    sub = subscribe(backend.port)
    assert backend.port.unsubscribe(sub.id) is True
    assert backend.port.unsubscribe(sub.id) is False


def test_a_refused_subscription_is_a_permanent_error(backend: Backend) -> None:
    backend.refuse()
    with pytest.raises(MailPermanentError) as caught:
        subscribe(backend.port)
    assert not isinstance(caught.value, MailNotFound)
    assert caught.value.code == "ValidationError"


def test_graph_gets_its_wire_format() -> None:
    graph = GraphSubscriptions()
    mail, rec, *_ = make_mail(graph, address=BOX)
    with mail:
        sub = subscribe(mail)
    body = rec.bodies()[0]
    assert body["changeType"] == "created"
    assert body["resource"] == f"users/{BOX}/mailFolders('inbox')/messages"
    assert (body["notificationUrl"], body["lifecycleNotificationUrl"]) == (URL, LIFECYCLE)
    assert body["clientState"] == "s" * 32
    assert body["expirationDateTime"].endswith("Z")
    assert graph.subs[sub.id]["clientState"] == "s" * 32
