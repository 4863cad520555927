"""Sending through the Gmail simulator: messages.send, the multipart and resumable uploads,
delivery into another simulated mailbox, threads, and Gmail's From rules for send-as aliases."""

from __future__ import annotations

import base64
import email

import httpx
import pytest

from libs.gmailsim.testing import GmailSimHandle
from tests.gmailsim_helpers import MODIFY, SEND, SHARING, mail, seed, token

pytestmark = pytest.mark.timeout(120)
HELPDESK = "helpdesk@example.com"
SUPPORT = "support@example.com"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def _sent(sim: GmailSimHandle, address: str) -> list[dict]:
    with sim.control() as control:
        return list(control.get(f"/_sim/mailboxes/{address}/sent").raise_for_status().json())


def _inbox_raw(sim: GmailSimHandle, address: str) -> list[bytes]:
    with sim.api(token(sim, address)) as api:
        listed = api.get("/gmail/v1/users/me/messages", params={"labelIds": "INBOX"}).json()
        return [
            base64.urlsafe_b64decode(
                api.get(f"/gmail/v1/users/me/messages/{m['id']}", params={"format": "raw"}).json()[
                    "raw"
                ]
            )
            for m in listed.get("messages", [])
        ]


def test_send_delivers_to_another_mailbox_and_threads(gsim: GmailSimHandle) -> None:
    first = seed(gsim, HELPDESK, mail("Printer", to=HELPDESK, msgid="<q1@outside.test>"))
    reply = mail(
        "Re: Printer",
        frm=HELPDESK,
        to=f"{SUPPORT}, customer@outside.test",
        extra="In-Reply-To: <q1@outside.test>\r\nBcc: boss@example.com",
    )
    with gsim.api(token(gsim, HELPDESK, scopes=[SEND])) as api:
        sent = api.post(
            "/gmail/v1/users/me/messages/send",
            json={"raw": _b64(reply), "threadId": first["threadId"]},
        ).json()
    assert sent["threadId"] == first["threadId"]
    assert sent["labelIds"] == ["SENT"]
    [record] = _sent(gsim, HELPDESK)
    assert record["from_rewritten"] is False
    assert record["bcc"] == ["boss@example.com"]
    assert record["internet_message_id"].endswith("@mail.example.com>")
    [delivered] = _inbox_raw(gsim, SUPPORT)
    parsed = email.message_from_bytes(delivered)
    assert parsed["Subject"] == "Re: Printer"
    assert parsed["Bcc"] is None
    assert parsed["Message-ID"] == record["internet_message_id"]
    assert delivered.endswith(b"\r\n\r\nHello.\r\n")


def test_multipart_and_resumable_uploads(gsim: GmailSimHandle) -> None:
    # with Message-ID and Date Gmail adds nothing: the recipient gets the bytes sent
    date = "Date: Thu, 03 Dec 2026 10:00:00 +0000"
    big = mail("Large", frm=HELPDESK, to=SUPPORT, msgid="<big@x>", extra=date, body="x" * 600_000)
    small = mail("Small", frm=HELPDESK, to=SUPPORT, msgid="<small@x>", extra=date)
    with gsim.api(token(gsim, HELPDESK)) as api:
        related = (
            b"--zz\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{}\r\n"
            b"--zz\r\nContent-Type: message/rfc822\r\n\r\n" + small + b"\r\n--zz--\r\n"
        )
        multi = api.post(
            "/upload/gmail/v1/users/me/messages/send",
            params={"uploadType": "multipart"},
            content=related,
            headers={"Content-Type": "multipart/related; boundary=zz"},
        )
        opened = api.post(
            "/upload/gmail/v1/users/me/messages/send",
            params={"uploadType": "resumable"},
            json={},
            headers={"X-Upload-Content-Type": "message/rfc822"},
        )
        session = opened.headers["Location"]
        half = 256 * 1024  # a chunk before the last is a multiple of 256 KiB
    # the session URI is its own credential: no Authorization on the PUTs
    with httpx.Client(verify=gsim.ssl_context()) as api:
        first = api.put(
            session, content=big[:half], headers={"Content-Range": f"bytes 0-{half - 1}/*"}
        )
        last = api.put(
            session,
            content=big[half:],
            headers={"Content-Range": f"bytes {half}-{len(big) - 1}/{len(big)}"},
        )
    assert multi.status_code == 200, multi.text
    assert first.status_code == 308
    assert first.headers["Range"] == f"bytes=0-{half - 1}"
    assert last.status_code == 200, last.text
    assert sorted(_inbox_raw(gsim, SUPPORT), key=len) == [small, big]


def test_from_must_be_the_user_or_an_accepted_alias(gsim: GmailSimHandle) -> None:
    with gsim.control() as control:
        control.put(
            f"/_sim/mailboxes/{HELPDESK}/send-as",
            json={"allowed": ["team@example.com"], "pending": ["ext@outside.test"]},
        ).raise_for_status()
        # three sends (100 units each) within a second are over Gmail's 250 units per second
        control.post("/_sim/faults", json={"user_units_per_s": 1000}).raise_for_status()
    with gsim.api(token(gsim, HELPDESK)) as api:
        for frm in ("Team <team@example.com>", "Ext <ext@outside.test>", "x@evil.test"):
            raw = mail(f"from {frm}", frm=frm, to="customer@outside.test")
            api.post("/gmail/v1/users/me/messages/send", json={"raw": _b64(raw)}).raise_for_status()
        aliases = api.get("/gmail/v1/users/me/settings/sendAs").json()["sendAs"]
    records = _sent(gsim, HELPDESK)
    assert [r["from_rewritten"] for r in records] == [False, True, True]
    assert [r["from"] for r in records] == [
        "Team <team@example.com>",
        f"Ext <{HELPDESK}>",
        HELPDESK,
    ]
    status = {a["sendAsEmail"]: a.get("verificationStatus") for a in aliases}
    assert status == {HELPDESK: None, "ext@outside.test": "pending", "team@example.com": "accepted"}


def test_creating_an_alias_needs_the_sharing_scope(gsim: GmailSimHandle) -> None:
    with gsim.api(token(gsim, HELPDESK, scopes=[MODIFY])) as api:
        denied = api.post(
            "/gmail/v1/users/me/settings/sendAs", json={"sendAsEmail": "a@example.com"}
        )
    with gsim.api(token(gsim, HELPDESK, scopes=[SHARING])) as api:
        inside = api.post(
            "/gmail/v1/users/me/settings/sendAs", json={"sendAsEmail": "a@example.com"}
        )
        outside = api.post(
            "/gmail/v1/users/me/settings/sendAs", json={"sendAsEmail": "b@else.test"}
        )
    assert denied.status_code == 403
    assert inside.json()["verificationStatus"] == "accepted"
    assert outside.json()["verificationStatus"] == "pending"


def test_a_send_without_recipients_or_too_large_is_refused(gsim: GmailSimHandle) -> None:
    with gsim.api(token(gsim, HELPDESK)) as api:
        none = api.post(
            "/gmail/v1/users/me/messages/send",
            json={"raw": _b64(b"From: helpdesk@example.com\r\nSubject: x\r\n\r\nbody\r\n")},
        )
        opened = api.post(
            "/upload/gmail/v1/users/me/messages/send",
            params={"uploadType": "resumable"},
            headers={"X-Upload-Content-Length": str(36 * 1024 * 1024)},
        )
    assert none.status_code == 400
    assert opened.status_code == 413
    assert _sent(gsim, HELPDESK) == []


def test_a_lost_answer_sends_and_in_sent_finds_it_by_message_id(gsim: GmailSimHandle) -> None:
    seed(gsim, SUPPORT, mail("Question", msgid="<in-inbox@outside.test>"))  # received, not sent
    with gsim.control() as control:
        control.post("/_sim/faults", json={"lose_send_responses": 1}).raise_for_status()
    lost = mail("Answer", frm=SUPPORT, to="ann@outside.test", msgid="<lost@mailpipe.test>")
    with gsim.api(token(gsim, SUPPORT)) as api:
        answer = api.post("/gmail/v1/users/me/messages/send", json={"raw": _b64(lost)})
        again = mail("Next", frm=SUPPORT, to="ann@outside.test", msgid="<next@mailpipe.test>")
        assert api.post("/gmail/v1/users/me/messages/send", json={"raw": _b64(again)}).is_success

        def found(q: str) -> list[dict]:
            listed = api.get("/gmail/v1/users/me/messages", params={"q": q}).raise_for_status()
            return list(listed.json().get("messages", []))

        assert len(found("in:sent rfc822msgid:<lost@mailpipe.test>")) == 1
        assert len(found("in:sent rfc822msgid:lost@mailpipe.test")) == 1  # brackets optional
        assert found("in:sent rfc822msgid:<in-inbox@outside.test>") == []
        assert len(found("rfc822msgid:<in-inbox@outside.test>")) == 1
        assert found("in:sent rfc822msgid:<never@mailpipe.test>") == []
    assert answer.status_code == 500
    assert answer.json()["error"]["errors"][0]["reason"] == "backendError"
    assert [r["internet_message_id"] for r in _sent(gsim, SUPPORT)] == [
        "<lost@mailpipe.test>",
        "<next@mailpipe.test>",
    ]
    with gsim.control() as control:
        assert control.get("/_sim/faults").json()["lose_send_responses"] == 0


def _open_session(api: httpx.Client, size: int) -> str:
    opened = api.post(
        "/upload/gmail/v1/users/me/messages/send",
        params={"uploadType": "resumable"},
        json={},
        headers={"X-Upload-Content-Length": str(size)},
    )
    return str(opened.raise_for_status().headers["Location"])


def test_a_broken_chunk_keeps_half_and_the_status_query_says_how_much(
    gsim: GmailSimHandle,
) -> None:
    date = "Date: Thu, 03 Dec 2026 10:00:00 +0000"  # else Gmail adds one
    big = mail(
        "Chunks", frm=HELPDESK, to=SUPPORT, msgid="<chunks@x>", extra=date, body="y" * 700_000
    )
    total, chunk = len(big), 512 * 1024
    with gsim.control() as control:
        control.post("/_sim/faults", json={"break_upload_chunks": 1}).raise_for_status()
    with gsim.api(token(gsim, HELPDESK)) as api:
        session = _open_session(api, total)
    with httpx.Client(verify=gsim.ssl_context()) as put:
        odd = put.put(
            session, content=big[:1000], headers={"Content-Range": f"bytes 0-999/{total}"}
        )
        broken = put.put(
            session, content=big[:chunk], headers={"Content-Range": f"bytes 0-{chunk - 1}/{total}"}
        )
        status = put.put(session, headers={"Content-Range": f"bytes */{total}"})
        kept = int(status.headers["Range"].rpartition("-")[2]) + 1
        last = put.put(
            session,
            content=big[kept:],
            headers={"Content-Range": f"bytes {kept}-{total - 1}/{total}"},
        )
        again = put.put(session, headers={"Content-Range": f"bytes */{total}"})
    assert odd.status_code == 400  # not a multiple of 256 KiB and not the last chunk
    assert broken.status_code == 503
    assert (status.status_code, kept) == (308, chunk // 2)
    assert last.status_code == 200, last.text
    # a finished session answers with its message again: a lost answer is not a second send
    assert again.status_code == 200 and again.json()["id"] == last.json()["id"]
    [record] = _sent(gsim, HELPDESK)
    assert base64.urlsafe_b64decode(record["mime_base64"] + "==") == big


def test_an_expired_session_and_a_too_large_chunk_are_refused(gsim: GmailSimHandle) -> None:
    raw = mail("Gone", frm=HELPDESK, to=SUPPORT, msgid="<gone@x>")
    with gsim.control() as control:
        control.post("/_sim/faults", json={"expire_upload_sessions": 1}).raise_for_status()
    with gsim.api(token(gsim, HELPDESK)) as api:
        expired, fresh = _open_session(api, len(raw)), _open_session(api, len(raw))
    too_big = 36 * 1024 * 1024
    with httpx.Client(verify=gsim.ssl_context()) as put:
        gone = put.put(expired, content=raw)
        again = put.put(expired, content=raw)
        over = put.put(
            fresh, content=b"z" * 1024, headers={"Content-Range": f"bytes 0-1023/{too_big}"}
        )
        sent = put.put(fresh, content=raw)
    assert (gone.status_code, again.status_code) == (404, 404)
    assert over.status_code == 413
    assert sent.status_code == 404  # a session refused as too large is gone
    assert _sent(gsim, HELPDESK) == []
