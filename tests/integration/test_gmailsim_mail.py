"""Reading and changing mail in the Gmail simulator: raw bytes, listing with labels and
queries, history from a cursor (and the 404 of an expired one), trash, modify, batchModify."""

from __future__ import annotations

import base64

import pytest

from libs.gmailsim.testing import GmailSimHandle
from tests.gmailsim_helpers import counts, mail, seed, token

pytestmark = pytest.mark.timeout(120)
BOX = "support@example.com"
ODD = (
    b"From: =?utf-8?q?J=C3=BCrgen?= <j@outside.test>\nTo: support@example.com\n"
    b"Subject: raw \xe9 bytes\nMessage-ID: <odd@outside.test>\nContent-Type: multipart/mixed; "
    b'boundary="b1"\n\n--b1\nContent-Type: text/plain; charset=iso-8859-1\n\ncaf\xe9\n--b1\n'
    b'Content-Type: application/pdf; name="a.pdf"\nContent-Disposition: attachment; '
    b'filename="a.pdf"\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b1--\n'
)


def _raw(api_json: dict) -> bytes:
    return base64.urlsafe_b64decode(api_json["raw"])


def test_raw_is_the_seeded_bytes_and_full_has_the_attachment(gsim: GmailSimHandle) -> None:
    seeded = seed(gsim, BOX, ODD)
    with gsim.api(token(gsim, BOX)) as api:
        base = f"/gmail/v1/users/me/messages/{seeded['id']}"
        raw = api.get(base, params={"format": "raw"}).json()
        full = api.get(base).json()
        meta = api.get(base, params=[("format", "metadata"), ("metadataHeaders", "Subject")]).json()
        pdf = full["payload"]["parts"][1]
        attachment = api.get(f"{base}/attachments/{pdf['body']['attachmentId']}").json()
    assert _raw(raw) == ODD
    assert raw["labelIds"] == ["INBOX", "UNREAD"]
    assert pdf["filename"] == "a.pdf"
    assert base64.urlsafe_b64decode(attachment["data"]) == b"%PDF-1.4\n"
    assert [h["name"] for h in meta["payload"]["headers"]] == ["Subject"]
    assert full["snippet"] == "café"


def test_list_by_label_query_and_pages(gsim: GmailSimHandle) -> None:
    ids = [seed(gsim, BOX, mail(f"m{i}"))["id"] for i in range(7)]
    archived = seed(gsim, BOX, mail("archived"), labels="Quarantine")["id"]
    seen: list[str] = []
    with gsim.api(token(gsim, BOX)) as api:
        params: dict[str, str | int] = {"labelIds": "INBOX", "maxResults": 3}
        while True:
            page = api.get("/gmail/v1/users/me/messages", params=params).json()
            assert page["resultSizeEstimate"] == 7
            seen += [m["id"] for m in page["messages"]]
            if "nextPageToken" not in page:
                break
            params["pageToken"] = page["nextPageToken"]
        quarantined = api.get("/gmail/v1/users/me/messages", params={"q": "label:Quarantine"})
        bad = api.get("/gmail/v1/users/me/messages", params={"q": "from:someone"})
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(set(seen))
    assert [m["id"] for m in quarantined.json()["messages"]] == [archived]
    assert bad.status_code == 400


def test_history_from_a_cursor_and_an_expired_cursor(gsim: GmailSimHandle) -> None:
    seed(gsim, BOX, mail("before"))
    with gsim.api(token(gsim, BOX)) as api:
        cursor = api.get("/gmail/v1/users/me/profile").json()["historyId"]
        new = [seed(gsim, BOX, mail(f"new {i}"))["id"] for i in range(3)]
        api.post(f"/gmail/v1/users/me/messages/{new[0]}/trash").raise_for_status()
        added = api.get(
            "/gmail/v1/users/me/history",
            params={"startHistoryId": cursor, "historyTypes": "messageAdded", "labelId": "INBOX"},
        ).json()
        every = api.get("/gmail/v1/users/me/history", params={"startHistoryId": cursor}).json()
        with gsim.control() as control:
            control.post(f"/_sim/mailboxes/{BOX}/expire-history").raise_for_status()
        expired = api.get("/gmail/v1/users/me/history", params={"startHistoryId": cursor})
    got = [a["message"]["id"] for r in added["history"] for a in r["messagesAdded"]]
    assert got == new
    assert int(added["historyId"]) > int(cursor)
    kinds = [k for r in every["history"] for k in r if k not in ("id", "messages")]
    assert kinds == ["messagesAdded"] * 3 + ["labelsAdded", "labelsRemoved"]
    ids = [int(r["id"]) for r in every["history"]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert expired.status_code == 404
    assert expired.json()["error"]["message"] == "Requested entity was not found."


def test_trash_untrash_modify_and_batch_modify(gsim: GmailSimHandle) -> None:
    ids = [seed(gsim, BOX, mail(f"t{i}"))["id"] for i in range(4)]
    with gsim.api(token(gsim, BOX)) as api:
        trashed = api.post(f"/gmail/v1/users/me/messages/{ids[0]}/trash").json()
        label = api.post("/gmail/v1/users/me/labels", json={"name": "Quarantine"}).json()
        modified = api.post(
            f"/gmail/v1/users/me/messages/{ids[1]}/modify",
            json={"addLabelIds": [label["id"]], "removeLabelIds": ["INBOX"]},
        ).json()
        batch = api.post(
            "/gmail/v1/users/me/messages/batchModify",
            json={"ids": [*ids[2:], "unknown"], "removeLabelIds": ["UNREAD"]},
        )
        listed = api.get("/gmail/v1/users/me/messages").json()
        in_trash = api.get("/gmail/v1/users/me/messages", params={"q": "in:trash"}).json()
        too_many = api.post(
            "/gmail/v1/users/me/messages/batchModify",
            json={"ids": [str(i) for i in range(1001)], "addLabelIds": ["STARRED"]},
        )
        api.post(f"/gmail/v1/users/me/messages/{ids[0]}/untrash").raise_for_status()
    assert trashed["labelIds"] == ["TRASH"]
    assert label["id"].startswith("Label_")
    assert modified["labelIds"] == [label["id"], "UNREAD"]
    assert batch.status_code == 204
    # the default listing leaves trash out
    assert sorted(m["id"] for m in listed["messages"]) == sorted(ids[1:])
    assert [m["id"] for m in in_trash["messages"]] == [ids[0]]
    assert too_many.status_code == 400
    labels = counts(gsim, BOX)["labels"]
    assert (labels["inbox"], labels["trash"], labels["unread"], labels["Quarantine"]) == (
        3,
        0,
        1,
        1,
    )
