"""The Gmail adapter's pure parts: what a history page means for a label, Google's errors
mapped to the port's, the quota's pacing, raw MIME as the port's data, the config."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

import pytest

from libs.common.after_processing import Move
from libs.common.errors import ConfigError
from libs.common.gmail._batch import _decode
from libs.common.gmail._convert import (
    attachments_of,
    b64url_encode,
    to_message,
    with_attachments,
)
from libs.common.gmail._errors import error_from_response, token_error
from libs.common.gmail._history import changes_of
from libs.common.gmail._quota import UserQuota
from libs.common.mail import (
    MailAuthError,
    MailNotFound,
    MailPermanentError,
    MailUnavailable,
    OutgoingAttachment,
    Throttled,
    TooLarge,
)
from libs.common.settings import load_config


def _item(mid: str, labels: list[str], changed: list[str] | None = None) -> dict:
    item: dict = {"message": {"id": mid, "labelIds": labels}}
    if changed is not None:
        item["labelIds"] = changed
    return item


def test_history_gives_each_message_by_its_last_change() -> None:
    records = [
        {"messagesAdded": [_item("a", ["INBOX"])]},
        {"messagesAdded": [_item("b", ["INBOX"])]},
        {"messagesAdded": [_item("s", ["SENT"])]},  # not the label: not ours
        {"labelsRemoved": [_item("a", ["TRASH"], ["INBOX"])]},  # trashed: it left
        {"labelsAdded": [_item("c", ["INBOX"], ["INBOX"])]},  # moved back in
        {"messagesDeleted": [_item("d", [])]},
    ]
    assert changes_of(records, "INBOX") == (["b", "c"], ["a", "d"])


def _body(status: int, reason: str) -> bytes:
    error = {"code": status, "message": "m", "errors": [{"reason": reason}], "status": "X"}
    return json.dumps({"error": error}).encode()


@pytest.mark.parametrize(
    ("status", "reason", "kind"),
    [
        (429, "rateLimitExceeded", Throttled),
        (403, "rateLimitExceeded", Throttled),
        (403, "userRateLimitExceeded", Throttled),
        (500, "backendError", MailUnavailable),
        (503, "backendError", MailUnavailable),
        (404, "notFound", MailNotFound),
        (413, "uploadTooLarge", TooLarge),
        (403, "insufficientPermissions", MailAuthError),
        (400, "failedPrecondition", MailAuthError),
        (400, "invalidArgument", MailPermanentError),
    ],
)
def test_gmail_answers_map_to_the_port(status: int, reason: str, kind: type) -> None:
    err = error_from_response(
        status, _body(status, reason), what="x", user="u@example.com", retry_after_s=2.0
    )
    assert type(err) is kind and err.status == status
    if err.retryable:
        assert isinstance(err, Throttled) == (err.retry_after_s == 2.0)
    else:
        assert err.hint and "\n" not in err.hint


def test_token_refusals_say_what_to_fix() -> None:
    no_grant = token_error(
        "unauthorized_client", "Client is unauthorized", user="u", client_id="42"
    )
    assert no_grant.hint and "Domain-wide delegation" in no_grant.hint and "42" in no_grant.hint
    revoked = token_error("invalid_grant", "Invalid JWT Signature.", user="u", client_id="42")
    assert revoked.hint and "Keys" in revoked.hint
    nobody = token_error("invalid_grant", "Invalid email or User ID", user="x@e.com", client_id="4")
    assert nobody.hint and "x@e.com" in nobody.hint
    assert all(e.about_mailbox and not e.retryable for e in (no_grant, revoked, nobody))


def test_the_quota_waits_instead_of_overspending() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    quota = UserQuota(units_per_s=10, max_concurrency=2, clock=lambda: now[0])
    for _ in range(3):
        with quota.call(5, sleep):
            pass
    assert len(waits) == 1 and now[0] >= 1.0  # the third call waited for the window
    with quota.call(100, sleep):  # dearer than a whole second: it goes alone
        pass


def _raw() -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "Ann <ann@x.test>", "help@example.com", "Hi"
    msg["Message-ID"] = "<1@x.test>"
    msg.set_content("text body")
    msg.add_alternative("<p>html body</p>", subtype="html")
    msg.add_attachment(b"PK..", maintype="application", subtype="zip", filename="a.zip")
    return msg.as_bytes()


def test_raw_mime_becomes_the_ports_message_and_attachments() -> None:
    resource = {"id": "m1", "threadId": "t1", "internalDate": "0", "raw": b64url_encode(_raw())}
    full = to_message(resource)
    assert (full.id, full.conversation_id, full.subject) == ("m1", "t1", "Hi")
    assert (full.body_type, full.has_attachments) == ("html", True)
    assert full.received_at == "1970-01-01T00:00:00Z"
    summary = to_message(resource, full=False)
    assert summary.internet_message_id == "<1@x.test>" and summary.body == ""
    (att,) = attachments_of(_raw())
    assert (att.name, att.content, att.kind) == ("a.zip", b"PK..", "file")


def test_a_folded_subject_after_an_encoded_word_keeps_one_blank() -> None:
    raw = (
        b"From: a@x.test\r\nMessage-ID: <2@x.test>\r\n"
        b"Subject: =?utf-8?q?bitte_pr=C3=BCfen?=\r\n (req-7)\r\n\r\nbody\r\n"
    )
    resource = {"id": "m2", "threadId": "t2", "internalDate": "0", "raw": b64url_encode(raw)}
    assert to_message(resource).subject == "bitte prüfen (req-7)"


def test_an_inline_image_known_only_by_its_content_id_is_an_attachment() -> None:
    msg = EmailMessage()
    msg["Subject"] = "logo"
    msg.set_content("text")
    msg.add_alternative('<img src="cid:logo@customer">', subtype="html")
    html = msg.get_body(("html",))
    assert isinstance(html, EmailMessage)
    html.add_related(b"PNG", "image", "png", cid="<logo@customer>", disposition="inline")
    (image,) = attachments_of(bytes(msg))
    assert (image.is_inline, image.content_id, image.content) == (True, "logo@customer", b"PNG")


def test_an_attached_message_without_a_name_or_disposition_is_an_attachment() -> None:
    """A forwarded mail as a bare ``message/rfc822`` part: Graph lists it as an item
    attachment; without it here the forwarded mail would be lost (raw MIME is rarely kept)."""
    raw = (
        b"From: ann@customer.example\r\nSubject: Fwd: invoice\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nSee the forwarded mail.\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\n\r\n"
        b"From: vendor@vendor.example\r\nSubject: Invoice 7\r\n\r\nPay now.\r\n"
        b"--b--\r\n"
    )
    (item,) = attachments_of(raw)
    assert (item.name, item.content_type, item.kind) == ("message.eml", "message/rfc822", "item")
    assert b"Subject: Invoice 7" in item.content and b"Pay now." in item.content
    resource = {"id": "m3", "threadId": "t3", "internalDate": "0", "raw": b64url_encode(raw)}
    assert to_message(resource).has_attachments


def test_attachments_given_apart_are_added_to_the_mime() -> None:
    raw = with_attachments(_raw(), [OutgoingAttachment("b.txt", b"bee", "text/plain")])
    assert [a.name for a in attachments_of(raw)] == ["a.zip", "b.txt"]


GOOGLE = """
[google]
api_url = "https://127.0.0.1:8444"

[[mailboxes]]
address = "Help@Example.com"
provider = "google"
service_account_key_file = "{key}"
copy_to_folder = "Handled"
"""


def test_a_google_mailbox_loads_from_toml(tmp_path: Path) -> None:
    key = tmp_path / "key.json"
    info = dict.fromkeys(("client_email", "private_key", "private_key_id", "token_uri"), "v")
    key.write_text(json.dumps({"type": "service_account", **info}))
    path = tmp_path / "mailpipe.toml"
    path.write_text(GOOGLE.format(key=key))
    config = load_config(path)
    box = config.mailbox("help@example.com")
    assert (box.provider, config.google.api_url) == ("google", "https://127.0.0.1:8444")
    # A copy on Gmail is a label: the copy folder is a move into it, never trash + label.
    assert box.after_processing_action == Move("Handled")
    key.write_text("{}")
    with pytest.raises(ConfigError, match="not a Google service account key"):
        load_config(path)
    path.write_text(GOOGLE.format(key=key) + 'tenant_id = "t"\n')
    with pytest.raises(ConfigError, match="takes no tenant_id"):
        load_config(path)


def test_batch_answers_are_matched_by_content_id() -> None:
    def part(n: int, status: int, body: str) -> str:
        head = (
            f"HTTP/1.1 {status} X\r\nRetry-After: 3\r\n" if status == 429 else "HTTP/1.1 200 OK\r\n"
        )
        return (
            f"--b\r\nContent-Type: application/http\r\nContent-ID: <response-item-{n}>\r\n\r\n"
            f"{head}Content-Type: application/json\r\n\r\n{body}\r\n"
        )

    answer = (part(1, 429, "{}") + part(0, 200, '{"id": "a"}') + "--b--\r\n").encode()
    first, second = _decode(answer, "multipart/mixed; boundary=b", 2)
    assert (first.status, json.loads(first.body)) == (200, {"id": "a"})
    assert (second.status, second.retry_after) == (429, "3")
