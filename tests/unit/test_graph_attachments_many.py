"""GraphMail.get_attachments_many on httpx.MockTransport: batches of 20, follow-up GETs for
nextLinks and bytes not sent inline, one typed error per failed message."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from libs.common.graph import Attachment, GraphError, GraphNotFound, GraphThrottled
from libs.common.mail import MailError

from .graph_helpers import BASE, graph_error, make_mail

USER = "/users/help@contoso.test"


def _file(att_id: str, data: bytes | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "@odata.type": "#microsoft.graph.fileAttachment",
        "id": att_id,
        "name": f"{att_id}.bin",
        "contentType": "application/octet-stream",
        "size": 3,
        "isInline": False,
    }
    if data is not None:
        item["contentBytes"] = base64.b64encode(data).decode()
    return item


def _message_id(url: str) -> str:
    return url.split("/messages/")[1].split("/")[0]


def test_many_messages_in_batches_of_20_with_retries_and_follow_ups() -> None:
    batches: list[list[dict[str, Any]]] = []
    throttled_once: set[str] = set()

    def item_answer(req: dict[str, Any]) -> dict[str, Any]:
        mid = _message_id(req["url"])
        answer: dict[str, Any] = {"id": req["id"], "status": 200}
        if mid == "m-5" and mid not in throttled_once:
            throttled_once.add(mid)
            err = graph_error(429, "ApplicationThrottled").json()
            return answer | {"status": 429, "headers": {"Retry-After": "3"}, "body": err}
        if mid == "m-7":
            return answer | {"status": 404, "body": graph_error(404, "ErrorItemNotFound").json()}
        if mid == "m-9":  # a partial page: the rest comes from the nextLink
            link = f"{BASE}{USER}/messages/m-9/attachments?$skiptoken=p2"
            return answer | {"body": {"value": [_file("a1", b"one")], "@odata.nextLink": link}}
        if mid == "m-11":  # bytes not inline: fetched from /$value
            return answer | {"body": {"value": [_file("big", None)]}}
        value = [_file(f"att-{mid}", mid.encode())] if int(mid[2:]) % 2 == 0 else []
        return answer | {"body": {"value": value}}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1.0/$batch":
            items = json.loads(request.content)["requests"]
            batches.append(items)
            answers = [item_answer(item) for item in items]
            return httpx.Response(200, json={"responses": answers[::-1]})  # any order
        if request.url.path.endswith("/big/$value"):
            return httpx.Response(200, content=b"big bytes")
        assert request.url.params["$skiptoken"] == "p2"
        return httpx.Response(200, json={"value": [_file("a2", b"two")]})

    mail, rec, _, sleeps, _ = make_mail(handler)
    ids = [f"m-{n}" for n in range(45)]
    got = mail.get_attachments_many(ids)

    assert [len(b) for b in batches] == [20, 20, 5, 1]
    assert [item["url"] for item in batches[3]] == [f"{USER}/messages/m-5/attachments"]
    first = batches[0][0]
    assert first["method"] == "GET" and first["url"] == f"{USER}/messages/m-0/attachments"
    assert first["headers"]["Prefer"] == 'IdType="ImmutableId"'
    assert sleeps == [3.0]
    plain = [(r.method, r.url.path) for r in rec.requests if r.url.path != "/v1.0/$batch"]
    assert sorted(plain) == [
        ("GET", f"/v1.0{USER}/messages/m-11/attachments/big/$value"),
        ("GET", f"/v1.0{USER}/messages/m-9/attachments"),
    ]
    assert len(rec.requests) == 6 and mail.requests_sent == 6

    assert list(got) == ids
    assert isinstance(got["m-7"], GraphNotFound) and got["m-7"].status == 404
    assert [a.content for a in _ok(got["m-9"])] == [b"one", b"two"]
    assert [a.content for a in _ok(got["m-11"])] == [b"big bytes"]
    assert [a.content for a in _ok(got["m-5"])] == []
    assert [a.content for a in _ok(got["m-4"])] == [b"m-4"]
    assert _ok(got["m-4"])[0].name == "att-m-4.bin"
    assert [a.content for a in _ok(got["m-3"])] == []


def _ok(got: list[Attachment] | MailError) -> list[Attachment]:
    assert isinstance(got, list), got
    return got


def test_a_message_deleted_before_its_follow_up_get_is_its_own_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1.0/$batch":
            items = json.loads(request.content)["requests"]
            value = {"value": [_file("big", None)]}
            return httpx.Response(
                200,
                json={"responses": [{"id": i["id"], "status": 200, "body": value} for i in items]},
            )
        if "/messages/gone/" in request.url.path:
            return graph_error(404, "ErrorItemNotFound")
        return httpx.Response(200, content=b"bytes")

    mail, _, _, _, _ = make_mail(handler)
    got = mail.get_attachments_many(["here", "gone"])
    assert [a.content for a in _ok(got["here"])] == [b"bytes"]
    assert isinstance(got["gone"], GraphNotFound)


def test_throttled_past_the_retry_budget_stays_a_typed_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        items = json.loads(request.content)["requests"]
        err = graph_error(429, "ApplicationThrottled").json()
        answers = [
            {"id": i["id"], "status": 429, "headers": {"Retry-After": "30"}, "body": err}
            for i in items
        ]
        return httpx.Response(200, json={"responses": answers})

    mail, rec, _, _, _ = make_mail(handler, budget_s=10.0)
    got = mail.get_attachments_many(["m1", "m2"])
    assert all(isinstance(e, GraphThrottled) and e.retry_after_s == 30.0 for e in got.values())
    assert len(rec.requests) == 1


def test_an_unauthorised_batch_raises() -> None:
    mail, rec, tokens, _, _ = make_mail(lambda r: graph_error(401, "InvalidAuthenticationToken"))
    with pytest.raises(GraphError) as info:
        mail.get_attachments_many(["m1"])
    assert info.value.status == 401 and not info.value.retryable
    assert len(rec.requests) == 2 and tokens.invalidated == 1


def test_a_401_on_a_follow_up_get_raises_instead_of_failing_one_message() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1.0/$batch":
            body = {"value": [_file("big", None)]}
            return httpx.Response(
                200, json={"responses": [{"id": "0", "status": 200, "body": body}]}
            )
        return graph_error(401, "InvalidAuthenticationToken")

    mail, _, _, _, _ = make_mail(handler)
    with pytest.raises(GraphError) as info:
        mail.get_attachments_many(["m1"])
    assert info.value.status == 401


def test_no_ids_no_requests() -> None:
    mail, rec, _, _, _ = make_mail(lambda r: httpx.Response(500))
    assert mail.get_attachments_many([]) == {}
    assert rec.requests == []


def test_graph_attachment_types_become_the_ports_kinds() -> None:
    """A file's and an item's bytes are read; a reference is a link (no bytes, no request);
    a type Graph may add later is a file whose bytes come only when listed."""
    listed = [
        _file("f", b"abc"),
        _file("i") | {"@odata.type": "#microsoft.graph.itemAttachment"},
        _file("r") | {"@odata.type": "#microsoft.graph.referenceAttachment"},
        _file("n") | {"@odata.type": "#microsoft.graph.newAttachment"},
        {k: v for k, v in _file("u", b"xyz").items() if k != "@odata.type"},
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/attachments"):
            return httpx.Response(200, json={"value": listed})
        return httpx.Response(200, content=b"item-mime")

    mail, rec, _, _, _ = make_mail(handler)
    got = {a.id: (a.kind, a.content) for a in mail.get_attachments("m1")}
    assert got == {
        "f": ("file", b"abc"),
        "i": ("item", b"item-mime"),
        "r": ("reference", b""),
        "n": ("file", b""),
        "u": ("file", b"xyz"),
    }
    assert [r.url.path.rsplit("/", 2)[-2] for r in rec.requests[1:]] == ["i"]
