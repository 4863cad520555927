"""Seeded RFC 822 mail through list, get, $value, attachments, paging, filters, ids, folders."""

from __future__ import annotations

import base64
from email.message import EmailMessage

import httpx

from libs.graphsim.testing import SimHandle
from tests.graphsim_helpers import assert_shape, graph, seed

BOX = "users/support@contoso.com"
PDF = b"%PDF-1.4 fake pdf \x00\x01\x02" * 50
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def rich_message() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Jürgen Müller <juergen@example.de>"
    msg["To"] = "Support <support@contoso.com>"
    msg["Cc"] = "boss@example.de"
    msg["Reply-To"] = "replies@example.de"
    msg["Subject"] = "Drucker brennt: Größe 💥 €"
    msg["Message-ID"] = "<rich-1@example.de>"
    msg["X-Custom"] = "kept"
    msg.set_content("Hallo, der Drucker brennt.\n")
    msg.add_alternative(
        '<html><body><p>Hallo, der <b>Drucker</b> brennt.</p><img src="cid:logo1"></body></html>',
        subtype="html",
    )
    list(msg.iter_parts())[1].add_related(
        PNG, "image", "png", cid="<logo1>", filename="logo.png", disposition="inline"
    )
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="rechnung.pdf")
    return bytes(msg)


def simple(n: int, **headers: str) -> bytes:
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (
        f"From: a{n}@example.org\r\nTo: support@contoso.com\r\nSubject: mail {n}\r\n"
        f"Message-ID: <m{n}@example.org>\r\n{extra}\r\nbody {n}\r\n"
    ).encode()


def test_seeded_message_has_graphs_shape_and_content(sim: SimHandle) -> None:
    raw = rich_message()
    mid = seed(sim, raw)
    with graph(sim) as g:
        listed = g.get(f"{BOX}/mailFolders/inbox/messages").json()["value"]
        one = g.get(f"{BOX}/messages/{mid}").json()
        headers = g.get(f"{BOX}/messages/{mid}", params={"$select": "internetMessageHeaders"})
        mime = g.get(f"{BOX}/messages/{mid}/$value")
        atts = g.get(f"{BOX}/messages/{mid}/attachments").json()["value"]
    assert [m["id"] for m in listed] == [mid]
    for item in (listed[0], one):
        assert_shape("microsoft.graph.message", item)
    assert one["subject"] == "Drucker brennt: Größe 💥 €"
    assert one["from"]["emailAddress"] == {"name": "Jürgen Müller", "address": "juergen@example.de"}
    assert one["toRecipients"][0]["emailAddress"]["address"] == "support@contoso.com"
    assert one["ccRecipients"][0]["emailAddress"]["address"] == "boss@example.de"
    assert one["replyTo"][0]["emailAddress"]["address"] == "replies@example.de"
    assert one["body"]["contentType"] == "html"
    assert "<b>Drucker</b>" in one["body"]["content"]
    assert one["bodyPreview"] == "Hallo, der Drucker brennt."
    assert one["internetMessageId"] == "<rich-1@example.de>"
    assert one["hasAttachments"] is True
    assert "internetMessageHeaders" not in one
    names = {h["name"]: h["value"] for h in headers.json()["internetMessageHeaders"]}
    assert names["X-Custom"] == "kept"
    assert mime.content == raw
    by_name = {a["name"]: a for a in atts}
    assert set(by_name) == {"logo.png", "rechnung.pdf"}
    assert base64.b64decode(by_name["rechnung.pdf"]["contentBytes"]) == PDF
    assert by_name["rechnung.pdf"]["isInline"] is False
    assert by_name["rechnung.pdf"]["size"] == len(PDF)
    assert base64.b64decode(by_name["logo.png"]["contentBytes"]) == PNG
    assert by_name["logo.png"]["isInline"] is True
    assert by_name["logo.png"]["contentId"] == "logo1"
    for att in atts:
        assert att["@odata.type"] == "#microsoft.graph.fileAttachment"
        assert_shape("microsoft.graph.attachment", att)


def test_replies_share_the_conversation_id(sim: SimHandle) -> None:
    first = seed(sim, simple(1))
    reply = seed(sim, simple(2, **{"In-Reply-To": "<m1@example.org>"}))
    later = seed(sim, simple(3, References="<m1@example.org> <m2@example.org>"))
    other = seed(sim, simple(4))
    chained = seed(sim, simple(5, **{"In-Reply-To": "<m2@example.org>"}))
    with graph(sim) as g:
        conv = {
            i: g.get(f"{BOX}/messages/{i}", params={"$select": "conversationId"}).json()
            for i in (first, reply, later, other, chained)
        }
    assert conv[first]["conversationId"] == conv[reply]["conversationId"]
    assert conv[first]["conversationId"] == conv[later]["conversationId"]
    assert conv[first]["conversationId"] == conv[chained]["conversationId"]
    assert conv[other]["conversationId"] != conv[first]["conversationId"]
    assert set(conv[first]) == {"@odata.context", "@odata.etag", "id", "conversationId"}


def test_paging_follows_next_links_without_loss_or_duplicates(sim: SimHandle) -> None:
    ids = [seed(sim, simple(n)) for n in range(25)]
    seen: list[str] = []
    pages = 0
    with graph(sim) as g:
        url: str | None = f"{BOX}/mailFolders/inbox/messages?$select=subject&$top=10"
        while url:
            body = g.get(url).json()
            pages += 1
            seen += [m["id"] for m in body["value"]]
            url = body.get("@odata.nextLink")
    assert pages == 3
    assert seen == list(reversed(ids))  # newest first, as Graph lists by default


def test_filter_and_orderby_on_received_date_time(sim: SimHandle) -> None:
    seed(sim, simple(1), received="2026-01-01T10:00:00Z")
    mid = seed(sim, simple(2), received="2026-01-02T10:00:00Z")
    seed(sim, simple(3), received="2026-01-03T10:00:00Z")
    query = {
        "$filter": "receivedDateTime ge 2026-01-02T00:00:00Z",
        "$orderby": "receivedDateTime asc",
        "$select": "subject,receivedDateTime",
    }
    with graph(sim) as g:
        found = g.get(f"{BOX}/messages", params=query).json()["value"]
        bad = g.get(f"{BOX}/messages", params={**query, "$orderby": "subject"})
    assert [m["subject"] for m in found] == ["mail 2", "mail 3"]
    assert found[0]["id"] == mid
    assert found[0]["receivedDateTime"] == "2026-01-02T10:00:00Z"
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "InefficientFilter"


def test_immutable_ids_survive_moves_and_rest_ids_do_not(sim: SimHandle) -> None:
    mid = seed(sim, simple(1))
    with graph(sim) as g:
        moved = g.post(f"{BOX}/messages/{mid}/move", json={"destinationId": "archive"})
        again = g.get(f"{BOX}/messages/{mid}")
    assert moved.status_code == 201
    assert moved.json()["id"] == mid
    assert again.status_code == 200
    with graph(sim, immutable=False) as g:
        rest_id = g.get(f"{BOX}/mailFolders/archive/messages").json()["value"][0]["id"]
        moved = g.post(f"{BOX}/messages/{rest_id}/move", json={"DestinationId": "inbox"})
        stale = g.get(f"{BOX}/messages/{rest_id}")
    assert moved.status_code == 201
    assert moved.json()["id"] != rest_id
    assert stale.status_code == 404


def test_delete_is_soft_and_a_second_delete_is_not_found(sim: SimHandle) -> None:
    mid = seed(sim, simple(1))
    with graph(sim) as g:
        first = g.delete(f"{BOX}/messages/{mid}")
        second = g.delete(f"{BOX}/messages/{mid}")
        purged = g.post(f"{BOX}/messages/{mid}/permanentDelete")
    with sim.control() as c:
        counts = c.get("/_sim/mailboxes/support@contoso.com").json()["folders"]
    assert first.status_code == 204
    assert second.status_code == 404
    error = second.json()["error"]
    assert error["code"] == "ErrorItemNotFound"
    assert error["innerError"]["request-id"] == second.headers["request-id"]
    assert {"date", "client-request-id"} <= error["innerError"].keys()
    assert purged.status_code == 204
    assert counts["inbox"] == 0
    assert counts["recoverableitemsdeletions"] == 0


def test_move_and_copy_into_folders_created_by_display_name(sim: SimHandle) -> None:
    mid = seed(sim, simple(1))
    with graph(sim) as g:
        copied = g.post(f"{BOX}/messages/{mid}/copy", json={"destinationId": "Processed"})
        moved = g.post(f"{BOX}/messages/{mid}/move", json={"destinationId": "Processed"})
        folders = g.get(f"{BOX}/mailFolders", params={"$top": "50"}).json()["value"]
        dup = g.post(f"{BOX}/mailFolders", json={"displayName": "Processed"})
        made = g.post(f"{BOX}/mailFolders", json={"displayName": "Quarantine"})
        slim = g.get(f"{BOX}/mailFolders", params={"$select": "displayName"}).json()["value"]
    assert copied.status_code == 201
    assert copied.json()["id"] != mid
    assert_shape("microsoft.graph.message", copied.json())
    processed = [f for f in folders if f["displayName"] == "Processed"]
    assert len(processed) == 1
    assert processed[0]["totalItemCount"] == 2
    assert moved.json()["parentFolderId"] == processed[0]["id"]
    assert "Deletions" not in {f["displayName"] for f in folders}
    for folder in folders:
        assert_shape("microsoft.graph.mailFolder", folder)
    assert dup.status_code == 409
    assert dup.json()["error"]["code"] == "ErrorFolderExists"
    assert made.status_code == 201
    assert all(set(f) == {"id", "displayName"} for f in slim)


def test_mailbox_and_permission_errors(sim: SimHandle) -> None:
    with sim.control() as c:
        c.post("/_sim/users", json={"address": "onprem@contoso.com", "mailbox": False})
    with graph(sim) as g:
        unknown = g.get("users/nobody@contoso.com/messages")
        no_box = g.get("users/onprem@contoso.com/messages")
        missing = g.get(f"{BOX}/messages/AAMkAGnotthere")
        bad_select = g.get(f"{BOX}/messages", params={"$select": "nonsense"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "ErrorInvalidUser"
    assert no_box.json()["error"]["code"] == "MailboxNotEnabledForRESTAPI"
    assert missing.json()["error"]["code"] == "ErrorItemNotFound"
    assert bad_select.status_code == 400


def test_an_app_without_mail_permissions_is_denied(sim: SimHandle) -> None:
    with sim.control() as c:
        c.post(
            "/_sim/apps",
            json={
                "tenant_id": sim.tenant_id,
                "client_id": "reader-only",
                "client_secret": "s3",
                "permissions": ["User.Read.All"],
            },
        )
    with httpx_client(sim, "reader-only", "s3") as g:
        denied = g.get(f"{BOX}/messages")
        send = g.post(f"{BOX}/sendMail", json={"message": {}})
        user = g.get(BOX)
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "ErrorAccessDenied"
    assert send.status_code == 403
    assert user.status_code == 200


def httpx_client(sim: SimHandle, client_id: str, secret: str) -> httpx.Client:
    with httpx.Client(verify=sim.ssl_context()) as c:
        tok = c.post(
            f"{sim.authority_host}/{sim.tenant_id}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
                "scope": "https://graph.microsoft.com/.default",
            },
        ).json()["access_token"]
    return httpx.Client(
        base_url=sim.base_url + "/",
        verify=sim.ssl_context(),
        headers={"Authorization": f"Bearer {tok}"},
    )


def test_users_endpoint_with_select(sim: SimHandle) -> None:
    with graph(sim) as g:
        user = g.get(BOX, params={"$select": "id,displayName,mail"}).json()
        by_id = g.get(f"users/{user['id']}").json()
        unknown = g.get("users/ghost@contoso.com")
    assert user["mail"] == "support@contoso.com"
    assert set(user) == {"@odata.context", "id", "displayName", "mail"}
    assert by_id["userPrincipalName"] == "support@contoso.com"
    assert_shape("microsoft.graph.user", by_id)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "Request_ResourceNotFound"
