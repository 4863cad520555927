"""The Gmail simulator's batch endpoint, per-user quota units, faults and control API."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from libs.gmailsim.accounts import PROJECT_NUMBER
from libs.gmailsim.server import write_key
from libs.gmailsim.testing import GmailSimHandle
from tests.gmailsim_helpers import MODIFY, SCOPE, mail, seed, token

pytestmark = pytest.mark.timeout(120)
BOX = "support@example.com"
DIRECTORY = SCOPE + "admin.directory.user.readonly"


def _batch(calls: list[str], boundary: str = "outer") -> bytes:
    parts = [
        f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <item{i}>\r\n\r\n"
        f"{call} HTTP/1.1\r\n\r\n"
        for i, call in enumerate(calls)
    ]
    return ("".join(parts) + f"--{boundary}--\r\n").encode()


def _answers(body: bytes, content_type: str) -> list[tuple[str, int, dict]]:
    boundary = content_type.split("boundary=")[1]
    out = []
    for chunk in body.split(f"--{boundary}".encode())[1:-1]:
        head, _, http = chunk.partition(b"\r\n\r\n")
        content_id = head.decode().split("Content-ID: ")[1].strip()
        status_line, _, rest = http.partition(b"\r\n")
        payload = rest.partition(b"\r\n\r\n")[2].strip()
        out.append((content_id, int(status_line.split()[1]), json.loads(payload or b"{}")))
    return out


def test_batch_answers_each_call_in_order(gsim: GmailSimHandle) -> None:
    ids = [seed(gsim, BOX, mail(f"b{i}"))["id"] for i in range(3)]
    calls = [f"GET /gmail/v1/users/me/messages/{i}?format=minimal" for i in ids]
    calls.append("GET /gmail/v1/users/me/messages/nope")
    calls.append(f"POST /gmail/v1/users/me/messages/{ids[0]}/trash")
    with gsim.api(token(gsim, BOX)) as api:
        resp = api.post(
            "/batch/gmail/v1",
            content=_batch(calls),
            headers={"Content-Type": "multipart/mixed; boundary=outer"},
        )
        too_many = api.post(
            "/batch/gmail/v1",
            content=_batch(["GET /gmail/v1/users/me/profile"] * 101),
            headers={"Content-Type": "multipart/mixed; boundary=outer"},
        )
    answers = _answers(resp.content, resp.headers["content-type"])
    assert [a[0] for a in answers] == [f"<response-item{i}>" for i in range(5)]
    assert [a[1] for a in answers] == [200, 200, 200, 404, 200]
    assert [a[2].get("id") for a in answers[:3]] == ids
    assert answers[4][2]["labelIds"] == ["TRASH"]
    assert too_many.status_code == 400
    with gsim.control() as control:
        stats = control.get("/_sim/stats").json()
    assert stats["batch_items"]["GET users/{u}/messages/{id}"] == {"200": 3, "404": 1}
    assert stats["requests"]["POST batch"] == {"200": 1, "400": 1}


def test_a_batch_over_fifty_calls_is_served_and_counted(gsim: GmailSimHandle) -> None:
    with gsim.control() as control:
        control.post("/_sim/faults", json={"user_units_per_s": 10_000}).raise_for_status()
    with gsim.api(token(gsim, BOX)) as api:
        resp = api.post(
            "/batch/gmail/v1",
            content=_batch(["GET /gmail/v1/users/me/labels"] * 60),
            headers={"Content-Type": "multipart/mixed; boundary=outer"},
        )
    answers = _answers(resp.content, resp.headers["content-type"])
    assert [a[1] for a in answers] == [200] * 60
    with gsim.control() as control:
        assert control.get("/_sim/stats").json()["large_batches"] == 1


def test_quota_units_per_user_answer_429(gsim: GmailSimHandle) -> None:
    seeded = seed(gsim, BOX, mail("quota"))
    with gsim.control() as control:
        control.post(
            "/_sim/faults", json={"user_units_per_s": 12, "user_units_per_min": 12}
        ).raise_for_status()
    with gsim.api(token(gsim, BOX)) as api:
        # messages.get is 5 units: two fit in 12, the third does not
        statuses = [
            api.get(f"/gmail/v1/users/me/messages/{seeded['id']}").status_code for _ in range(3)
        ]
        over = api.get(f"/gmail/v1/users/me/messages/{seeded['id']}")
    assert statuses == [200, 200, 429]
    error = over.json()["error"]
    assert error["errors"][0] == {
        "message": "User-rate limit exceeded.",
        "domain": "usageLimits",
        "reason": "rateLimitExceeded",
    }
    assert over.headers["Retry-After"] == "1"
    with gsim.control() as control:
        stats = control.get("/_sim/stats").json()
    assert stats["units"][BOX] == 10
    assert stats["rate_limited"] == 2


def test_faults_and_control_errors(gsim: GmailSimHandle) -> None:
    with gsim.control() as control:
        unknown = control.post("/_sim/faults", json={"nope": 1})
        control.post(
            "/_sim/faults", json={"error_ratio": 1.0, "error_status": 500}
        ).raise_for_status()
        missing = control.get("/_sim/mailboxes/nobody@example.com")
    with gsim.api(token(gsim, BOX)) as api:
        failed = api.get("/gmail/v1/users/me/labels")
    assert unknown.status_code == 400
    assert missing.status_code == 404
    assert failed.status_code == 500
    assert failed.json()["error"]["errors"][0]["reason"] == "backendError"


def test_throttling_may_be_a_403_rate_limit_exceeded(gsim: GmailSimHandle) -> None:
    with gsim.control() as control:
        bad = control.post("/_sim/faults", json={"throttle_status": 418})
        control.post(
            "/_sim/faults", json={"throttle_ratio": 1.0, "throttle_status": 403}
        ).raise_for_status()
    with gsim.api(token(gsim, BOX)) as api:
        throttled = api.get("/gmail/v1/users/me/labels")
    assert bad.status_code == 400
    assert throttled.status_code == 403
    assert throttled.json()["error"]["errors"][0] == {
        "message": "Rate Limit Exceeded",
        "domain": "usageLimits",
        "reason": "rateLimitExceeded",
    }


def _reason(answer: Any) -> tuple[int, str, str]:
    error = answer.json()["error"]
    return error["code"], error["errors"][0]["reason"], error["message"]


def test_an_api_not_enabled_answers_access_not_configured(gsim: GmailSimHandle) -> None:
    with gsim.control() as control:
        not_a_switch = control.post("/_sim/faults", json={"gmail_api_disabled": "yes"})
        control.post(
            "/_sim/faults", json={"gmail_api_disabled": True, "directory_api_disabled": True}
        ).raise_for_status()
    with gsim.api(token(gsim, BOX, [MODIFY, DIRECTORY])) as api:
        gmail = api.get("/gmail/v1/users/me/profile")
        batch = api.post(
            "/batch/gmail/v1",
            content=_batch(["GET /gmail/v1/users/me/profile"]),
            headers={"Content-Type": "multipart/mixed; boundary=outer"},
        )
        directory = api.get(f"/admin/directory/v1/users/{BOX}?viewType=domain_public")
    assert not_a_switch.status_code == 400
    status, reason, message = _reason(gmail)
    assert (status, reason) == (403, "accessNotConfigured")
    assert message.startswith(f"Gmail API has not been used in project {PROJECT_NUMBER} before")
    assert [a[1] for a in _answers(batch.content, batch.headers["content-type"])] == [403]
    status, reason, message = _reason(directory)
    assert (status, reason) == (403, "accessNotConfigured")
    assert message.startswith("Admin SDK API has not been used in project")


def test_a_user_without_gmail_answers_failed_precondition(gsim: GmailSimHandle) -> None:
    with gsim.control() as control:
        off = control.put(f"/_sim/mailboxes/{BOX}/gmail-service", json={"enabled": False})
        bad = control.put(f"/_sim/mailboxes/{BOX}/gmail-service", json={"enabled": "no"})
    with gsim.api(token(gsim, BOX)) as api:
        refused = api.get("/gmail/v1/users/me/profile")
    with gsim.api(token(gsim, "helpdesk@example.com")) as api:
        other = api.get("/gmail/v1/users/me/profile")
    assert off.json() == {"enabled": False} and bad.status_code == 400
    assert _reason(refused) == (400, "failedPrecondition", "Mail service not enabled")
    assert refused.json()["error"]["status"] == "FAILED_PRECONDITION"
    assert other.status_code == 200


def test_write_key_gives_a_private_key_file(gsim: GmailSimHandle, tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    write_key(path, gsim.world)
    info = json.loads(path.read_text())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert info["token_uri"] == f"{gsim.root_url}/token"
    assert token(gsim, BOX, info=info)
