"""GraphMail operations on httpx.MockTransport: paging, delta, batch, folders, sending."""

from __future__ import annotations

import base64
import json

import httpx

from libs.common.graph import MESSAGE_SELECT, SELECTS, BatchRequest, OutgoingAttachment
from libs.common.graph._send import CHUNK_SIZE
from libs.common.mail import MailAddress, MailMessage

from .graph_helpers import BASE, graph_error, make_mail

USER = f"{BASE}/users/help@contoso.test"


def test_paging_follows_next_link_exactly_as_given() -> None:
    odd_link = "https://graph.test/v1.0/users/help@contoso.test/mailFolders/inbox/messages?%24skiptoken=A%2Bb%3D%3D&$top=2"

    def handler(request: httpx.Request) -> httpx.Response:
        if "skiptoken" in str(request.url):
            return httpx.Response(200, json={"value": [{"id": "m3"}]})
        return httpx.Response(
            200, json={"value": [{"id": "m1"}, {"id": "m2"}], "@odata.nextLink": odd_link}
        )

    mail, rec, _, _, _ = make_mail(handler)
    assert [m.id for m in mail.list_messages("inbox", view="id", top=2)] == [
        "m1",
        "m2",
        "m3",
    ]
    first, second = rec.requests
    assert first.url.params["$select"] == "id" and first.url.params["$top"] == "2"
    assert str(second.url) == odd_link


def test_delta_collects_changes_and_removals_until_the_cursor() -> None:
    pages = {
        "start": {
            "value": [
                {"id": "a", "subject": "A"},
                {"id": "gone", "@removed": {"reason": "deleted"}},
            ],
            "@odata.nextLink": f"{USER}/mailFolders/inbox/messages/delta?$skiptoken=p2",
        },
        "p2": {
            "value": [{"id": "b"}],
            "@odata.deltaLink": f"{USER}/mailFolders/inbox/messages/delta?$deltatoken=d1",
        },
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages["p2" if "skiptoken" in str(request.url) else "start"])

    mail, rec, _, _, _ = make_mail(handler)
    result = mail.delta("inbox", page_size=25)
    assert [m.id for m in result.messages] == ["a", "b"]
    assert result.removed == ["gone"]
    assert result.cursor.endswith("$deltatoken=d1") and not result.resynced
    assert all("odata.maxpagesize=25" in r.headers["Prefer"] for r in rec.requests)
    assert all('IdType="ImmutableId"' in r.headers["Prefer"] for r in rec.requests)
    assert rec.requests[0].url.path.endswith("/mailFolders/inbox/messages/delta")


def test_expired_cursor_resyncs_from_scratch() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "deltatoken=old" in str(request.url):
            return graph_error(410, "SyncStateNotFound")
        return httpx.Response(
            200, json={"value": [{"id": "a"}], "@odata.deltaLink": f"{USER}/d?$deltatoken=new"}
        )

    mail, rec, _, _, _ = make_mail(handler)
    result = mail.delta("inbox", f"{USER}/mailFolders/inbox/messages/delta?$deltatoken=old")
    assert result.resynced and result.cursor.endswith("new")
    assert [m.id for m in result.messages] == ["a"]
    assert len(rec.requests) == 2 and "$select" in rec.requests[1].url.params


def test_batch_chunks_by_20_and_retries_throttled_items() -> None:
    throttled: set[str] = {"3", "25"}
    seen: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        items = json.loads(request.content)["requests"]
        seen.append([i["id"] for i in items])
        responses = []
        for item in reversed(items):  # any order
            assert item["headers"]["Prefer"] == 'IdType="ImmutableId"'
            if item["id"] in throttled:
                throttled.discard(item["id"])
                responses.append(
                    {
                        "id": item["id"],
                        "status": 429,
                        "headers": {"Retry-After": "3"},
                        "body": {"error": {"code": "ApplicationThrottled"}},
                    }
                )
            elif item["id"] == "7":
                responses.append(
                    {"id": "7", "status": 404, "body": {"error": {"code": "ErrorItemNotFound"}}}
                )
            else:
                responses.append({"id": item["id"], "status": 204})
        return httpx.Response(200, json={"responses": responses})

    mail, rec, _, sleeps, _ = make_mail(handler)
    ids = [f"msg-{i}" for i in range(45)]
    outcomes = mail.delete_many(ids)
    assert [len(s) for s in seen] == [20, 20, 5, 2]
    assert sorted(seen[-1]) == ["25", "3"]
    assert sleeps == [3.0]
    assert list(outcomes) == ids
    assert outcomes["msg-7"].outcome == "not_found" and outcomes["msg-7"].done
    assert all(o.outcome == "ok" for k, o in outcomes.items() if k != "msg-7")
    assert all(r.url.path == "/v1.0/$batch" for r in rec.requests)


def test_batch_item_errors_are_reported_per_item() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "responses": [
                    {"id": "0", "status": 403, "body": {"error": {"code": "ErrorAccessDenied"}}}
                ]
            },
        )

    mail, _, _, _, _ = make_mail(handler)
    (result,) = mail.batch([BatchRequest("0", "DELETE", "/users/x/messages/1")])
    assert result.outcome == "error" and not result.done
    assert result.error is not None and result.error.code == "ErrorAccessDenied"


def test_move_to_a_display_name_creates_the_folder_once() -> None:
    folders: list[dict[str, str]] = [{"id": "f-inbox", "displayName": "Inbox"}]

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/mailFolders") and request.method == "GET":
            return httpx.Response(200, json={"value": folders})
        if path.endswith("/mailFolders"):
            folders.append(
                {"id": "f-new", "displayName": json.loads(request.content)["displayName"]}
            )
            return httpx.Response(201, json=folders[-1])
        body = json.loads(request.content)
        return httpx.Response(201, json={"id": f"moved-to-{body['destinationId']}"})

    mail, rec, _, _, _ = make_mail(handler)
    assert mail.move("m1", "Processed") == "moved-to-f-new"
    assert mail.move("m2", "processed") == "moved-to-f-new"
    assert mail.copy("m3", "archive") == "moved-to-archive"
    creates = [
        r for r in rec.requests if r.method == "POST" and r.url.path.endswith("/mailFolders")
    ]
    assert len(creates) == 1


def test_attachments_are_decoded() -> None:
    payload = "Grüße".encode()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/$value"):
            return httpx.Response(200, content=b"big-bytes")
        return httpx.Response(
            200,
            json={
                "value": [
                    {
                        "@odata.type": "#microsoft.graph.fileAttachment",
                        "id": "a1",
                        "name": "g.txt",
                        "contentType": "text/plain",
                        "size": 6,
                        "isInline": False,
                        "contentBytes": base64.b64encode(payload).decode(),
                    },
                    {
                        "@odata.type": "#microsoft.graph.fileAttachment",
                        "id": "a2",
                        "name": "big.bin",
                        "size": 9,
                    },
                ]
            },
        )

    mail, _, _, _, _ = make_mail(handler)
    first, second = mail.get_attachments("m1")
    assert first.content == payload and first.name == "g.txt"
    assert second.content == b"big-bytes"


def test_small_mail_is_one_send_mail_with_save_flag() -> None:
    mail, rec, _, _, _ = make_mail(lambda r: httpx.Response(202, headers={"request-id": "rq-9"}))
    message = {"subject": "Hi", "from": {"emailAddress": {"address": "agent@contoso.test"}}}
    result = mail.send_mail(
        message, [OutgoingAttachment("a.txt", b"abc")], save_to_sent_items=False
    )
    assert result.request_id == "rq-9"
    (body,) = rec.bodies()
    assert body["saveToSentItems"] is False
    assert body["message"]["from"]["emailAddress"]["address"] == "agent@contoso.test"
    assert base64.b64decode(body["message"]["attachments"][0]["contentBytes"]) == b"abc"


def test_mime_send_is_base64_text_plain() -> None:
    mail, rec, _, _, _ = make_mail(lambda r: httpx.Response(202))
    mail.send_mime(b"Subject: x\r\n\r\nhello")
    (req,) = rec.requests
    assert req.headers["Content-Type"] == "text/plain"
    assert base64.b64decode(req.content) == b"Subject: x\r\n\r\nhello"


def test_large_attachment_goes_through_draft_and_upload_session() -> None:
    big = bytes(range(256)) * (10 * 1024 * 1024 // 256)
    upload_url = "https://upload.test/session/abc?token=xyz"
    received = bytearray()

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.url.host == "upload.test":
            assert "Authorization" not in request.headers
            start, end_total = request.headers["Content-Range"].removeprefix("bytes ").split("-")
            end, total = (int(x) for x in end_total.split("/"))
            assert int(start) == len(received) and total == len(big)
            received.extend(request.content)
            return httpx.Response(201 if end + 1 == total else 200, json={})
        if path.endswith("/createUploadSession"):
            return httpx.Response(201, json={"uploadUrl": upload_url})
        if path.endswith("/send"):
            return httpx.Response(202, headers={"request-id": "rq-send"})
        return httpx.Response(201, json={"id": "draft-1", "internetMessageId": "<x@y>"})

    mail, rec, _, _, _ = make_mail(handler)
    result = mail.send_mail({"subject": "big"}, [OutgoingAttachment("big.bin", big)])
    assert bytes(received) == big
    chunks = [r for r in rec.requests if r.url.host == "upload.test"]
    assert len(chunks) == -(-len(big) // CHUNK_SIZE) and all(
        len(c.content) <= 4 * 1024 * 1024 for c in chunks
    )
    assert result.request_id == "rq-send" and result.draft_id == "draft-1"
    assert str(chunks[0].url) == upload_url


def test_a_batch_404_for_an_unknown_mailbox_is_an_error_not_done() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        item = {"id": "0", "status": 404, "body": {"error": {"code": "ErrorInvalidUser"}}}
        return httpx.Response(200, json={"responses": [item]})

    mail, rec, _, _, _ = make_mail(handler)
    (outcome,) = mail.delete_many(["m1"]).values()
    assert outcome.outcome == "error" and not outcome.done
    sent = rec.bodies()[0]["requests"][0]
    assert sent["url"] == "/users/help@contoso.test/messages/m1"


def test_sync_state_lost_half_way_through_paging_restarts_once() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if "skiptoken" in str(request.url):
            return graph_error(410, "SyncStateNotFound")
        if calls["n"] == 1:
            link = f"{USER}/mailFolders/inbox/messages/delta?$skiptoken=p2"
            return httpx.Response(200, json={"value": [{"id": "a"}], "@odata.nextLink": link})
        return httpx.Response(200, json={"value": [{"id": "a"}], "@odata.deltaLink": f"{USER}/d"})

    mail, rec, _, _, _ = make_mail(handler)
    result = mail.delta("inbox")
    assert result.resynced and [m.id for m in result.messages] == ["a"]
    assert len(rec.requests) == 3


def test_graph_json_becomes_the_neutral_message_with_odd_values_kept() -> None:
    """Only the shape changes: what the fetcher's lenient mapping drops or cuts (an X.500
    path, an empty address, a folded header) reaches it as Graph sent it."""
    x500 = "/O=EXCHANGELABS/OU=EXCHANGE/CN=RECIPIENTS"
    data = {
        "id": "m1",
        "internetMessageId": "<m1@customer.example>",
        "conversationId": "conv-1",
        "receivedDateTime": "2026-11-26T09:30:00Z",
        "subject": None,
        "from": {"emailAddress": {"address": x500}},
        "sender": None,
        "toRecipients": [{"emailAddress": {"address": "", "name": None}}, "junk", {"x": 1}],
        "ccRecipients": "not a list",
        "replyTo": [{"emailAddress": {"address": "r@customer.example", "name": "R"}}],
        "hasAttachments": True,
        "body": {"contentType": "HTML", "content": "<p>hi</p>"},
        "internetMessageHeaders": [
            {"name": "References", "value": "<a@x>\r\n <b@x>"},
            {"name": "", "value": "nameless"},
            {"name": "X-Empty", "value": None},
            "junk",
        ],
    }
    mail, rec, _, _, _ = make_mail(lambda request: httpx.Response(200, json=data))
    message = mail.get_message("m1")
    assert rec.requests[0].url.params["$select"] == ",".join(MESSAGE_SELECT)
    assert message == MailMessage(
        id="m1",
        internet_message_id="<m1@customer.example>",
        conversation_id="conv-1",
        received_at="2026-11-26T09:30:00Z",
        subject=None,
        from_=MailAddress(x500),
        sender=None,
        # a bare mapping is read as the inner form, as the fetcher always did
        to=(MailAddress(""), MailAddress("")),
        cc=(),
        reply_to=(MailAddress("r@customer.example", "R"),),
        has_attachments=True,
        body="<p>hi</p>",
        body_type="html",
        headers=(("References", "<a@x>\r\n <b@x>"), ("X-Empty", "")),
    )
    assert mail.get_message("m1", view="summary") == message
    assert rec.requests[1].url.params["$select"] == ",".join(SELECTS["summary"])
