"""The simulator's ``/subscriptions``: the validation handshake, the subscription resource,
renew, delete, reauthorize and expiry, against a local receiver."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from libs.graphsim.testing import SimHandle
from tests.graphsim_helpers import assert_shape, graph, seed
from tests.notify_receiver import Receiver, receiver

INBOX = "users/support@contoso.com/mailFolders('inbox')/messages"


def in_minutes(minutes: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)).isoformat()


def body(rec: Receiver, **overrides: Any) -> dict[str, Any]:
    return {
        "changeType": "created",
        "notificationUrl": rec.url("/notify"),
        "resource": INBOX,
        "expirationDateTime": in_minutes(60),
        "clientState": "s3cret-state",
        **overrides,
    }


@pytest.fixture
def rec() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


@pytest.fixture
def client(sim: SimHandle) -> Iterator[httpx.Client]:
    with graph(sim, immutable=False) as c:
        yield c


def subscribe(client: httpx.Client, rec: Receiver, **overrides: Any) -> dict[str, Any]:
    r = client.post("subscriptions", json=body(rec, **overrides))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_create_validates_the_endpoint_and_returns_the_resource(
    sim: SimHandle, client: httpx.Client, rec: Receiver
) -> None:
    sub = subscribe(client, rec, lifecycleNotificationUrl=rec.url("/lifecycle"))
    paths = [v["path"] for v in rec.validations]
    assert paths == ["/notify", "/lifecycle"]
    for v in rec.validations:
        assert v["token"].startswith("Validation: ") and " " in v["token"]
        assert v["body"] == b"" and v["content_type"].startswith("text/plain")
    assert_shape("microsoft.graph.subscription", sub)
    assert sub["@odata.context"].endswith("$metadata#subscriptions/$entity")
    assert sub["resource"] == INBOX and sub["changeType"] == "created"
    assert sub["clientState"] == "s3cret-state" and sub["applicationId"] == sim.client_id
    assert sub["notificationUrlAppId"] is None and sub["includeResourceData"] is False
    assert sub["encryptionCertificate"] is None and sub["creatorId"]
    assert dt.datetime.fromisoformat(sub["expirationDateTime"]) > dt.datetime.now(dt.UTC)
    listed = client.get("subscriptions").json()["value"]
    assert [s["id"] for s in listed] == [sub["id"]]
    with sim.control() as c:
        counts = c.get("/_sim/stats").json()["notifications"]
    assert counts["validations"] == 2 and counts["subscriptions_alive"] == 1


def test_the_endpoint_may_call_graph_while_validating(
    sim: SimHandle, client: httpx.Client, rec: Receiver
) -> None:
    seen: list[int] = []

    def call_back() -> None:
        with graph(sim) as other:
            seen.append(other.get("subscriptions").status_code)

    rec.on_validation = call_back
    subscribe(client, rec)
    assert seen == [200]


@pytest.mark.parametrize("mode", ["wrong", 500])
def test_failed_validation_is_400_and_stores_nothing(
    client: httpx.Client, rec: Receiver, mode: str | int
) -> None:
    rec.validation = mode
    r = client.post("subscriptions", json=body(rec))
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "ValidationError"
    assert "must respond with 200 OK" in r.json()["error"]["message"]
    assert len(rec.validations) == 1
    assert client.get("subscriptions").json()["value"] == []


def test_validation_timeout_fails(sim: SimHandle, client: httpx.Client) -> None:
    # Nothing listens on the port: refused as fast as a timeout would be slow.
    with sim.control() as c:
        c.post("/_sim/faults", json={"validation_timeout_s": 0.5}).raise_for_status()
    r = client.post(
        "subscriptions",
        json=body(Receiver("http://127.0.0.1:9"), notificationUrl="http://127.0.0.1:9/x"),
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "ValidationError"


def test_requests_graph_refuses(sim: SimHandle, client: httpx.Client, rec: Receiver) -> None:
    def error(**overrides: Any) -> tuple[int, str]:
        r = client.post("subscriptions", json=body(rec, **overrides))
        return r.status_code, r.json()["error"]["code"]

    assert error(expirationDateTime=in_minutes(4231)) == (400, "ExtensionError")
    assert error(expirationDateTime=in_minutes(-1)) == (400, "ExtensionError")
    assert error(clientState="x" * 129) == (400, "InvalidRequest")
    assert error(changeType="created,missed") == (400, "InvalidRequest")
    assert error(resource="me/mailFolders('inbox')/messages") == (400, "BadRequest")
    assert error(resource="users/support@contoso.com/events") == (400, "InvalidRequest")
    assert error(resource="users/nobody@contoso.com/messages") == (404, "ErrorInvalidUser")
    sim.world.allow_http_notifications = False
    try:
        assert error() == (400, "InvalidRequest")
    finally:
        sim.world.allow_http_notifications = True
    assert rec.validations == []  # nothing was valid enough to reach the handshake


def test_the_longest_lifetime_is_configurable_refused_or_clamped(
    sim: SimHandle, client: httpx.Client, rec: Receiver
) -> None:
    with sim.control() as c:
        c.post("/_sim/faults", json={"subscription_max_minutes": 60}).raise_for_status()
        r = client.post("subscriptions", json=body(rec, expirationDateTime=in_minutes(61)))
        assert r.status_code == 400 and "expiration" in r.json()["error"]["message"]
        assert subscribe(client, rec, expirationDateTime=in_minutes(59))["id"]
        c.post("/_sim/faults", json={"subscription_clamp": True}).raise_for_status()
    sub = subscribe(client, rec, expirationDateTime=in_minutes(600))
    granted = dt.datetime.fromisoformat(sub["expirationDateTime"]) - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=59) < granted <= dt.timedelta(minutes=60)


def test_resource_spellings_and_combined_change_types(
    sim: SimHandle, client: httpx.Client, rec: Receiver
) -> None:
    user_id = sim.world.users["support@contoso.com"].user_id
    for resource in (
        f"/Users/{user_id}/messages",
        "users/SUPPORT@contoso.com/mailFolders/Inbox/messages",
    ):
        sub = subscribe(client, rec, resource=resource, changeType="created,updated,deleted")
        assert sub["resource"] == resource and sub["changeType"] == "created,updated,deleted"


def test_renew_delete_reauthorize(client: httpx.Client, rec: Receiver) -> None:
    sub = subscribe(client, rec)
    later = in_minutes(4000)
    r = client.patch(f"subscriptions/{sub['id']}", json={"expirationDateTime": later})
    assert r.status_code == 200
    renewed = dt.datetime.fromisoformat(r.json()["expirationDateTime"])
    assert abs(renewed - dt.datetime.fromisoformat(later)) < dt.timedelta(seconds=1)
    too_far = client.patch(
        f"subscriptions/{sub['id']}", json={"expirationDateTime": in_minutes(5000)}
    )
    assert too_far.status_code == 400
    assert client.post(f"subscriptions/{sub['id']}/reauthorize").status_code == 204
    assert client.delete(f"subscriptions/{sub['id']}").status_code == 204
    for method in ("GET", "DELETE", "PATCH"):
        r = client.request(method, f"subscriptions/{sub['id']}", json={"expirationDateTime": later})
        assert r.status_code == 404 and r.json()["error"]["code"] == "ResourceNotFound"
    assert client.post(f"subscriptions/{sub['id']}/reauthorize").status_code == 404


def test_expired_subscription_disappears_and_stops_notifying(
    sim: SimHandle, client: httpx.Client, rec: Receiver
) -> None:
    gone = subscribe(client, rec, clientState="gone")
    kept = subscribe(client, rec, clientState="kept")
    with sim.control() as c:
        assert c.post(f"/_sim/subscriptions/{quote(gone['id'])}/expire").status_code == 204
        assert [s["id"] for s in c.get("/_sim/subscriptions").json()] == [kept["id"]]
    assert client.get(f"subscriptions/{gone['id']}").status_code == 404
    seed(sim, b"Subject: after expiry\r\n\r\nbody\r\n")
    items = rec.wait_items(1)
    assert [i["clientState"] for i in items] == ["kept"]


def test_other_apps_do_not_see_the_subscription(
    sim: SimHandle, client: httpx.Client, rec: Receiver
) -> None:
    sub = subscribe(client, rec)
    with sim.control() as c:
        c.post(
            "/_sim/apps",
            json={"tenant_id": sim.tenant_id, "client_id": "other-app", "client_secret": "pw"},
        ).raise_for_status()
        token = c.post(
            f"/{sim.tenant_id}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "other-app",
                "client_secret": "pw",
                "scope": "https://graph.microsoft.com/.default",
            },
        ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"subscriptions/{sub['id']}", headers=headers).status_code == 404
    assert client.get("subscriptions", headers=headers).json()["value"] == []


def test_without_mail_read_is_403(sim: SimHandle, client: httpx.Client, rec: Receiver) -> None:
    sim.world.default_app.permissions = frozenset({"Mail.Send"})
    r = client.post("subscriptions", json=body(rec))
    assert r.status_code == 403 and r.json()["error"]["code"] == "ErrorAccessDenied"
    assert rec.validations == []
